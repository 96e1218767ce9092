# METADATA
# title: permsets change rules library
# description: |
#   What the built-in change rules (permsets.plan.rules) share: the shape of a finding, the
#   texts their messages are made of, the changes they look at and what the actor holds. Reads
#   the two models compiled at data.permsets_plan (docs/plan.md, "The rules' contract").
# related_resources:
#   - ref: docs/plan.md#the-rules-contract-package-permsetsplan
#     description: the documents the rules read and the findings they report
# authors:
#   - permsets
# scope: package
package permsets.plan.lib

import data.permsets_plan.after
import data.permsets_plan.before

# METADATA
# title: finding
# description: |
#   The one shape of a finding, {code, object, file, line, message}: its object is kind_id
#   (Kind/id, or ""); place ({file, line}) is where a change, an instance or a set is declared.
finding(code, kind_id, place, message) := {
	"code": code,
	"object": kind_id,
	"file": place.file,
	"line": place.line,
	"message": message,
}

# The object a change is about, as Kind/id.
object_of(c) := concat("/", [c.kind, c.id])

# "sets/hq/staffer.yaml:1"
at(place) := sprintf("%s:%d", [place.file, place.line])

# "permission set staffer (sets/hq/staffer.yaml:1)"
set_text(id, place) := sprintf("permission set %s (%s)", [id, at(place)])

# "instance hq (instances/hq.yaml:1)", declared in after, or in before when it is removed.
instance_text(id) := sprintf("instance %s (%s)", [id, at(after.instances[id])]) if {
	after.instances[id]
} else := sprintf("instance %s (%s)", [id, at(before.instances[id])])

# "instance hq" or "instances hq, leader", for a sorted list.
instances_text(ids) := concat(" ", ["instance", ids[0]]) if {
	count(ids) == 1
} else := concat(" ", ["instances", concat(", ", ids)])

# Who an assignment or a role gives something to.
people(users) := concat(", ", sort(users)) if {
	count(users) > 0
} else := "no one yet"

# The PermissionSet changes of the plan.
set_changes contains c if {
	some c in input.changes
	c.kind == "PermissionSet"
}

# The sets the change adds or changes (the warnings are about these only).
added_or_changed_sets contains c if {
	some c in set_changes
	c.action in {"add", "change"}
}

# The fields of a changed set that changed, other than its instances, sorted.
edited_fields(c) := sort([f.field |
	some f in c.fields
	f.field != "instances"
])

# The instances a set was on in before and is not on in after (all of them when it is removed).
# (A ref under `not x in` must be defined, or the whole expression is undefined: hence
# object.get with a default.)
lost_instances(id) := {i |
	some i in before.sets[id].instances
	not i in object.get(after.sets, [id, "instances"], [])
}

# The instances a set is on in after and was not on in before (all of them when it is added).
gained_instances(id) := {i |
	some i in after.sets[id].instances
	not i in object.get(before.sets, [id, "instances"], [])
}

# Where a change's object is declared: in after, or in before when it is removed.
where(c) := place if {
	place := c.after
} else := c.before
