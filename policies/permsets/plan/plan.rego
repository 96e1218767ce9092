# METADATA
# title: permsets change rules
# description: |
#   What a change to the config repository may not do (deny) and what should make a reviewer
#   look twice (warn), as permsctl plan reports them (DESIGN section 6, docs/plan.md). Reads
#   the two models compiled at data.permsets_plan (before: the base; after: the working tree;
#   now_ns: the time of the plan) and the plan in the input (changes, access_changes,
#   problems). Every finding is {code, object, file, line, message}: object is Kind/id, file
#   and line point at the object in after (in before when the change removes it), and the
#   message names the object and its file:line and says what to do. The deny rules are in
#   rules.rego, the warnings in warnings.rego; this file holds what they share.
# authors:
#   - permsets
# scope: package
package permsets.plan

import data.permsets_plan.after
import data.permsets_plan.before

# METADATA
# title: deny
# description: |
#   What the change may not do, whoever makes it: remove a set that is still held
#   (set-in-use), touch a fixed set other than by giving it instances (fixed-set), grow an
#   instance beyond its maxCustomSets (custom-set-limit), touch a set an instance does not
#   let be edited (set-not-editable), newly assign a disabled set (disabled-set-assigned), let
#   a user newly hold both sides of a separation-of-duties rule (separation-of-duties),
#   remove the catalog (catalog-removed); and every validation problem of after (invalid).
#   With an actor (actor.rego), what they may not do, judged on before: an undeclared actor
#   (actor-unknown), a change their grants do not allow (actor-not-allowed), a grant of more
#   than they hold (escalation).
# entrypoint: true
deny := union({
	_set_in_use,
	_fixed_set,
	_custom_set_limit,
	_set_not_editable,
	_disabled_set_assigned,
	_separation_of_duties,
	_catalog_removed,
	_invalid,
	_actor_not_allowed,
	_escalation,
})

# METADATA
# title: warn
# description: |
#   What a reviewer should look at twice, only about the objects the change adds or changes:
#   permissions a set grants without what they require (ineffective-permission), wildcards in
#   sets that are not built in (wildcard-grant), sets no one is given (unassigned-set),
#   assignments that expire soon or have expired (expiring-assignment), and set ids or names
#   outside the repository's patterns (set-naming).
# entrypoint: true
warn := union({
	_ineffective_permission,
	_wildcard_grant,
	_unassigned_set,
	_expiring_assignment,
	_set_naming,
})

# A finding at a place ({file, line}: where a change, an instance or a set is declared).
_finding(code, object, place, message) := {
	"code": code,
	"object": object,
	"file": place.file,
	"line": place.line,
	"message": message,
}

# The object a change is about, as Kind/id.
_object(c) := concat("/", [c.kind, c.id])

_at(place) := sprintf("%s:%d", [place.file, place.line])

# "permission set staffer (sets/hq/staffer.yaml:1)"
_set_text(id, place) := sprintf("permission set %s (%s)", [id, _at(place)])

# "instance hq (instances/hq.yaml:1)", declared in after, or in before when it is removed.
_instance_text(id) := sprintf("instance %s (%s)", [id, _at(after.instances[id])]) if {
	after.instances[id]
} else := sprintf("instance %s (%s)", [id, _at(before.instances[id])])

# "instance hq" or "instances hq, leader", for a sorted list.
_instances_text(ids) := concat(" ", ["instance", ids[0]]) if {
	count(ids) == 1
} else := concat(" ", ["instances", concat(", ", ids)])

# Who an assignment or a role gives something to.
_people(users) := concat(", ", sort(users)) if {
	count(users) > 0
} else := "no one yet"

# The PermissionSet changes of the plan.
_set_changes contains c if {
	some c in input.changes
	c.kind == "PermissionSet"
}

# The sets the change adds or changes (the warnings are about these only).
_added_or_changed_sets contains c if {
	some c in _set_changes
	c.action in {"add", "change"}
}

# The fields of a changed set that changed, other than its instances, sorted.
_edited_fields(c) := sort([f.field |
	some f in c.fields
	f.field != "instances"
])

# The instances a set was on in before and is not on in after (all of them when it is removed).
# (A ref under `not x in` must be defined, or the whole expression is undefined: hence
# object.get with a default.)
_lost_instances(id) := {i |
	some i in before.sets[id].instances
	not i in object.get(after.sets, [id, "instances"], [])
}

# The instances a set is on in after and was not on in before (all of them when it is added).
_gained_instances(id) := {i |
	some i in after.sets[id].instances
	not i in object.get(before.sets, [id, "instances"], [])
}
