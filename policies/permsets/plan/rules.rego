# The deny rules of DESIGN section 6 that bind everyone (1-6 and 9), and the validation
# problems of after. Each adds findings to a set of its own; deny (plan.rego) is their union.
# (The package's annotations are in plan.rego.)
package permsets.plan

import data.permsets_plan.after
import data.permsets_plan.before

# 1. set-in-use: a set is removed while an assignment or role in after still references it.
# after.references lists, for each set the change touches, who references it in after (the
# engine fills it for those sets only).
_set_in_use contains entry if {
	some c in _set_changes
	c.action == "remove"
	refs := object.get(after.references, c.id, [])
	count(refs) > 0
	entry := _finding("set-in-use", _object(c), c.before, sprintf(
		"%s is removed but still held: %s. Remove %s in the same change, or keep the set.",
		[_set_text(c.id, c.before), _references_text(refs), _those_references(refs)],
	))
}

# ... or an instance is taken out of a set's instances while references to the set on that
# instance remain.
_set_in_use contains entry if {
	some c in _set_changes
	c.action == "change"
	some i in _lost_instances(c.id)
	refs := [r |
		some r in after.references[c.id]
		r.instance == i
	]
	count(refs) > 0
	entry := _finding("set-in-use", _object(c), c.after, sprintf(
		"%s is removed from instance %s but still held there: %s. Remove %s in the same change, or keep %s in the set's instances.",
		[_set_text(c.id, c.after), i, _references_text(refs), _those_references(refs), i],
	))
}

# The references of one set, assignments before roles, each by id and instance:
# "assignment organizers (assignments/organizers.yaml:1) gives it to alice, bob on hq; ...".
_references_text(refs) := concat("; ", [text |
	some [_, _, _, text] in sort([[r.kind, r.id, r.instance, _reference_text(r)] | some r in refs])
])

_reference_text(r) := sprintf("%s %s (%s) gives it to %s on %s", [lower(r.kind), r.id, _at(r), _people(r.users), r.instance])

_those_references(refs) := "that reference" if {
	count(refs) == 1
} else := "those references"

# The sets set-in-use reports: the dangling references their removal leaves are not reported
# again as invalid.
_sets_in_use contains trim_prefix(entry.object, "PermissionSet/") if some entry in _set_in_use

# 2. fixed-set: a set that is fixed in before is removed, ...
_fixed_set contains entry if {
	some c in _set_changes
	c.action == "remove"
	before.sets[c.id].fixed == true
	entry := _finding("fixed-set", _object(c), c.before, sprintf(
		"%s is fixed and cannot be removed. Keep it; a fixed set may only gain instances.",
		[_set_text(c.id, c.before)],
	))
}

# ... or changed other than by gaining instances: adding an instance to it (the admin set of a
# new tenant) is allowed; any other field, or losing an instance, is not.
_fixed_set contains entry if {
	some c in _set_changes
	c.action == "change"
	before.sets[c.id].fixed == true
	edits := array.concat(_field_edits(c), _instance_losses(c.id))
	count(edits) > 0
	entry := _finding("fixed-set", _object(c), c.after, sprintf(
		"%s is fixed, but this change %s. Revert that; a fixed set may only gain instances.",
		[_set_text(c.id, c.after), concat(" and ", edits)],
	))
}

# "edits its enabled, permissions", or nothing when only its instances changed.
_field_edits(c) := [sprintf("edits its %s", [concat(", ", fields)]) |
	fields := _edited_fields(c)
	count(fields) > 0
]

# "removes it from instance legacy", or nothing when it loses no instance.
_instance_losses(id) := [sprintf("removes it from %s", [_instances_text(lost)]) |
	lost := sort(_lost_instances(id))
	count(lost) > 0
]

# 3. custom-set-limit: an instance with maxCustomSets ends above it, and above its count in
# before (0 for a new instance), counting the sets that are not built in. An instance that is
# already above its limit may keep its sets, and edit them, as long as their number does not
# grow. Only the instances of the sets the change touches can grow, so only they are counted.
_custom_set_limit contains entry if {
	some i in _instances_of_changed_sets
	limit := after.instances[i].maxCustomSets
	on_after := _custom_sets_after(i)
	on_before := _custom_sets_before(i)
	count(on_after) > limit
	count(on_after) > count(on_before)
	entry := _finding("custom-set-limit", concat("/", ["Instance", i]), after.instances[i], sprintf(
		"%s would have %s, more than its maxCustomSets of %d (%d before; new on it: %s). Remove custom sets from %s, or raise its maxCustomSets.",
		[_instance_text(i), _custom_sets_text(count(on_after)), limit, count(on_before), concat(", ", sort(on_after - on_before)), i],
	))
}

_instances_of_changed_sets contains i if {
	some c in _set_changes
	some i in after.sets[c.id].instances
}

_custom_sets_text(n) := "1 custom permission set" if {
	n == 1
} else := sprintf("%d custom permission sets", [n])

# The sets that are not built in on an instance, in after and in before (none when the
# instance is new).
_custom_sets_after(i) := {id |
	some id, s in after.sets
	not s.builtin
	i in s.instances
}

_custom_sets_before(i) := {id |
	before.instances[i]
	some id, s in before.sets
	not s.builtin
	i in s.instances
}

# 4. set-not-editable: a set is created, changed or removed on an instance that exists in
# before and whose editableSets (in before) does not list it. An instance without
# editableSets lets every set be edited; one created in the same change may be given its
# first sets (custom-set-limit still counts them).
_set_not_editable contains entry if {
	some [id, i, how, place] in _set_touches
	editable := before.instances[i].editableSets
	is_array(editable)
	not id in editable
	entry := _finding("set-not-editable", concat("/", ["PermissionSet", id]), place, sprintf(
		"%s cannot be %s %s: its editableSets %s. Leave the set as it is there, or have the instance's editableSets list it first, in a change of its own.",
		[_set_text(id, place), how, _instance_text(i), _editable_text(editable)],
	))
}

_editable_text(editable) := sprintf("list only %s", [concat(", ", sort(editable))]) if {
	count(editable) > 0
} else := "list no set"

# [set, instance, how, place]: each instance on which the change creates, changes or removes
# a set. An added set is created on each of its instances and a removed one removed from each
# of its instances in before; a changed set is added to or removed from the instances its
# instances gain or lose, and changed on those it keeps when another field changed.
_set_touches contains [c.id, i, "created on", c.after] if {
	some c in _set_changes
	c.action == "add"
	some i in after.sets[c.id].instances
}

_set_touches contains [c.id, i, "removed from", c.before] if {
	some c in _set_changes
	c.action == "remove"
	some i in before.sets[c.id].instances
}

_set_touches contains [c.id, i, "added to", c.after] if {
	some c in _set_changes
	c.action == "change"
	some i in _gained_instances(c.id)
}

_set_touches contains [c.id, i, "removed from", c.after] if {
	some c in _set_changes
	c.action == "change"
	some i in _lost_instances(c.id)
}

_set_touches contains [c.id, i, "changed on", c.after] if {
	some c in _set_changes
	c.action == "change"
	count(_edited_fields(c)) > 0
	some i in before.sets[c.id].instances
	i in after.sets[c.id].instances
}

# 5. disabled-set-assigned: an assignment (added, or changed so its permissionSets gains the
# set) newly references a set that is disabled in after. Disabling a set that is still
# assigned is not this: that takes access away on purpose.
_disabled_set_assigned contains entry if {
	some c in input.changes
	c.kind == "Assignment"
	some id in _gained_set_references(c)
	after.sets[id].enabled == false
	a := c.after_object
	entry := _finding("disabled-set-assigned", _object(c), c.after, sprintf(
		"assignment %s (%s) newly gives %s, which is disabled, to %s on %s. Enable the set, or assign an enabled one.",
		[c.id, _at(c.after), _set_text(id, after.sets[id]), _people(a.users), a.instance],
	))
}

# ... or a role newly references instance/set, a disabled set.
_disabled_set_assigned contains entry if {
	some c in input.changes
	c.kind == "Role"
	some ref in _gained_set_references(c)
	[instance, id] := split(ref, "/")
	after.sets[id].enabled == false
	entry := _finding("disabled-set-assigned", _object(c), c.after, sprintf(
		"role %s (%s) newly gives %s, which is disabled, to its members %s on %s. Enable the set, or give the role an enabled one.",
		[c.id, _at(c.after), _set_text(id, after.sets[id]), _people(c.after_object.members), instance],
	))
}

# The permissionSets entries an added or changed assignment or role has in after and did not
# have in before (set ids for an assignment, instance/set for a role).
_gained_set_references(c) := {ref |
	c.action in {"add", "change"}
	some ref in c.after_object.permissionSets
	not ref in object.get(c, ["before_object", "permissionSets"], [])
}

# 6. separation-of-duties: a user who gains a permission holds, after the change, every
# permission of a separation-of-duties rule of the catalog, without having held all of them
# before. Holders of *=* (superuser_after) are exempt.
_separation_of_duties contains entry if {
	some a in input.access_changes
	count(a.gained) > 0
	not a.superuser_after
	some rule in after.catalog.separationOfDuties
	every p in rule.permissions {
		p in a.after_keys
	}
	some p in rule.permissions
	not p in object.get(a, "before_keys", [])
	place := _rule_place(rule)
	entry := _finding("separation-of-duties", concat("/", ["User", a.user]), place, sprintf(
		"%s would newly hold every permission of separation-of-duties rule %s (%s) on %s: %s. Keep them with different people: drop the grant that gives %s the last of them.",
		[a.user, rule.name, _at(place), a.instance, concat(", ", rule.permissions), a.user],
	))
}

# Where a separation-of-duties rule is declared, or the catalog when that is not known.
_rule_place(rule) := rule if {
	rule.file != ""
} else := after.catalog

# 9. catalog-removed: the catalog is removed, and with it every requirement and separation
# rule (a catalog spread over files stays one Catalog object: this is the last of them).
_catalog_removed contains entry if {
	some c in input.changes
	c.kind == "Catalog"
	c.action == "remove"
	entry := _finding("catalog-removed", _object(c), c.before, sprintf(
		"the catalog (%s) is removed: every requirement and separation-of-duties rule it declares would silently stop applying. Keep a catalog.",
		[_at(c.before)],
	))
}

# invalid: each validation problem of after, except an unknown set that this change removes
# (from the repository or from an instance) while it is still referenced: set-in-use reports
# that once, naming who holds it.
_invalid contains entry if {
	some p in input.problems
	not _reported_as_set_in_use(p)
	entry := _finding("invalid", "", p, sprintf("%s: %s", [p.code, p.message]))
}

_reported_as_set_in_use(p) if {
	p.code == "unknown-set"
	p.set in _sets_in_use
}
