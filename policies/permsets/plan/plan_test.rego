# METADATA
# title: the fixture of the change rules' tests
# description: |
#   The model and helpers every test of a change rule uses (rules/<code>/<code>_test.rego
#   import this package as fixture), and the plans that find nothing. The model is in the shape
#   of docs/plan.md: base is the before side of every test, and each test derives its after
#   side from it (json.patch) with the changes, access changes, problems and actor of its plan.
#   denied and warned evaluate the entry points (permsets.plan.deny and warn), so a test sees
#   every finding of its plan, whichever rule reports it.
package permsets.plan_test

import data.permsets.plan

# The base model:
#
#   catalog:    finances=export requires finances=read and people=export; separation of
#               duties payments (payments=create, payments=approve), declared at catalog.yaml:30.
#   instances:  hq (standard, maxCustomSets 5); leader (editableSets [staffer]); legacy
#               (standard, maxCustomSets 1, already above it with 3 custom sets).
#   sets:       admin (*=*; built in, fixed) on hq, leader and legacy; staffer (built in) on hq
#               and leader; on hq the 5 custom sets finance, archived (disabled), events,
#               outreach and payments; reports on leader and legacy; legacy-reports and
#               legacy-export on legacy. Every set is assigned.
base := {
	"present": true,
	"catalog": {
		"file": "catalog.yaml",
		"line": 1,
		"separationOfDuties": [{
			"name": "payments",
			"permissions": ["payments=create", "payments=approve"],
			"file": "catalog.yaml",
			"line": 30,
		}],
		"requires": {"finances=export": ["finances=read", "people=export"]},
	},
	"repository": {"expiringWithinNs": fourteen_days, "setIdPattern": "", "setNamePattern": ""},
	"instances": {
		"hq": {
			"name": "Headquarters",
			"package": "standard",
			"file": "instances/hq.yaml",
			"line": 1,
			"maxCustomSets": 5,
		},
		"leader": {
			"name": "Leader",
			"package": "leader",
			"file": "instances/leader.yaml",
			"line": 1,
			"editableSets": ["staffer"],
		},
		"legacy": {
			"name": "Legacy",
			"package": "standard",
			"file": "instances/legacy.yaml",
			"line": 1,
			"maxCustomSets": 1,
		},
	},
	"sets": {
		"admin": object.union(
			permission_set("Admin", ["hq", "leader", "legacy"], ["*=*"], [], "sets/admin.yaml"),
			{"builtin": true, "fixed": true, "superuser": true},
		),
		"staffer": object.union(
			permission_set(
				"Staffer",
				["hq", "leader"],
				["people=read", "people=edit"],
				["people=edit", "people=read"],
				"sets/staffer.yaml",
			),
			{"builtin": true},
		),
		"finance": permission_set(
			"Finance", ["hq"], ["finances=read", "finances=export", "people=export"],
			["finances=export", "finances=read", "people=export"], "sets/hq/finance.yaml",
		),
		"archived": object.union(
			permission_set("Archived", ["hq"], ["people=export"], ["people=export"], "sets/hq/archived.yaml"),
			{"enabled": false},
		),
		"events": permission_set("Events", ["hq"], ["events=read"], ["events=read"], "sets/hq/events.yaml"),
		"outreach": permission_set("Outreach", ["hq"], ["people=read"], ["people=read"], "sets/hq/outreach.yaml"),
		"payments": permission_set(
			"Payments",
			["hq"],
			["payments=create"],
			["payments=create"],
			"sets/hq/payments.yaml",
		),
		"reports": permission_set(
			"Reports",
			["leader", "legacy"],
			["finances=read"],
			["finances=read"],
			"sets/reports.yaml",
		),
		"legacy-reports": permission_set(
			"Legacy reports",
			["legacy"],
			["finances=read"],
			["finances=read"],
			"sets/legacy/reports.yaml",
		),
		"legacy-export": permission_set(
			"Legacy export",
			["legacy"],
			["people=export"],
			["people=export"],
			"sets/legacy/export.yaml",
		),
	},
	"assigned": {id: true | some id in _base_sets},
	"references": {},
}

_base_sets := {
	"admin", "staffer", "finance", "archived", "events", "outreach", "payments", "reports",
	"legacy-reports", "legacy-export",
}

fourteen_days := 1209600000000000

# The time of every plan: 2026-12-01T00:00:00Z.
now_ns := 1796083200000000000

# A custom, enabled set (not fixed, not *=*) declared at line 1 of file.
permission_set(name, instances, permissions, grants, file) := {
	"name": name,
	"instances": instances,
	"enabled": true,
	"builtin": false,
	"fixed": false,
	"permissions": permissions,
	"grants": grants,
	"superuser": false,
	"file": file,
	"line": 1,
}

# The base with a JSON patch applied: an after side.
patched(ops) := json.patch(base, ops)

# Where an object is declared, as a change gives it.
at(file) := {"file": file, "line": 1, "column": 1, "doc": 1}

# The changes of a set between base and after.
set_added(after, id) := {"kind": "PermissionSet", "id": id, "action": "add", "after": at(after.sets[id].file)}

set_removed(id) := {"kind": "PermissionSet", "id": id, "action": "remove", "before": at(base.sets[id].file)}

set_changed(after, id, fields) := {
	"kind": "PermissionSet",
	"id": id,
	"action": "change",
	"fields": fields,
	"before": at(base.sets[id].file),
	"after": at(after.sets[id].file),
}

# The field changes between a set in base and in after.
set_fields(after, id) := [{"field": k, "old": object.get(base.sets[id], k, null), "new": v} |
	some k, v in after.sets[id]
	k in {"name", "instances", "enabled", "builtin", "fixed", "permissions"}
	object.get(base.sets[id], k, null) != v
]

# A plan of changes alone.
changes(cs) := {"changes": cs, "access_changes": [], "problems": [], "actor": null}

# What the rules find for a plan from base (or from before) to after.
denied(after, inp) := d if {
	d := plan.deny with data.permsets_plan as {"now_ns": now_ns, "before": base, "after": after} with input as inp
}

denied_from(before, after, inp) := d if {
	d := plan.deny with data.permsets_plan as {"now_ns": now_ns, "before": before, "after": after} with input as inp
}

warned(after, inp) := w if {
	w := plan.warn with data.permsets_plan as {"now_ns": now_ns, "before": base, "after": after} with input as inp
}

# The findings of one code.
of_code(findings, code) := {f | some f in findings; f.code == code}

# An after side with one more set on hq, assigned.
with_set(id, s) := patched([
	{"op": "add", "path": concat("/", ["", "sets", id]), "value": s},
	{"op": "add", "path": concat("/", ["", "assigned", id]), "value": true},
])

# A new tenant: the instance tenant (editableSets [staffer]) is created and the admin set given
# to it. Not set-not-editable either: tenant is not in before.
tenant := {
	"name": "Tenant",
	"package": "leader",
	"file": "instances/tenant.yaml",
	"line": 1,
	"maxCustomSets": 0,
	"editableSets": ["staffer"],
}

tenant_added := {
	"kind": "Instance",
	"id": "tenant",
	"action": "add",
	"after": at("instances/tenant.yaml"),
	"after_object": {"id": "tenant", "name": "Tenant"},
}

# A grant as the engine parses it into input.actor.grants.
grant(text, feature, action, objects, scopes) := {
	"text": text, "feature": feature, "action": action,
	"objects": objects, "scopes": scopes,
}

# A declared actor with the given grants on hq (and nothing elsewhere).
actor(id, hq_grants) := {
	"given": id, "id": id, "declared": true, "system_admin": false, "bootstrap": false,
	"grants": {"hq": hq_grants}, "superuser": {},
}

may_assign_staffer := grant("permset=assign('staffer')", "permset", "assign", ["staffer"], [])

staffer_perms := [
	grant("people=read", "people", "read", [], []),
	grant("people=edit", "people", "edit", [], []),
]

with_actor(inp, a) := object.union(inp, {"actor": a})

# An assignment of set on hq to bob, added.
assignment_added(id, set) := {
	"kind": "Assignment", "id": id, "action": "add", "after": at("assignments/x.yaml"),
	"after_object": {"id": id, "instance": "hq", "users": ["bob"], "permissionSets": [set]},
}

# bob gains what a set gives on hq.
gains(set, perms) := {
	"user": "bob", "instance": "hq", "before_keys": [], "after_keys": [], "superuser_after": false,
	"gained": [{"permission": p.text, "grants": [{"set": set, "via": "direct"}], "parsed": p} | some p in perms],
	"lost": [],
}

codes(findings) := {f.code | some f in findings}

role_changed := {
	"kind": "Role", "id": "organizers", "action": "change",
	"before": at("roles/organizers.yaml"), "after": at("roles/organizers.yaml"),
	"fields": [{"field": "permissionSets", "old": ["hq/staffer"], "new": ["hq/staffer", "hq/finance"]}],
	"before_object": {"id": "organizers", "members": ["bob"], "permissionSets": ["hq/staffer"]},
	"after_object": {"id": "organizers", "members": ["bob"], "permissionSets": ["hq/staffer", "hq/finance"]},
}

test_no_change_finds_nothing if {
	denied(base, changes([])) == set()
	warned(base, changes([])) == set()
}

test_display_name_rename_finds_nothing if {
	after := patched([{"op": "replace", "path": "/sets/finance/name", "value": "Finance reporting"}])
	inp := changes([set_changed(after, "finance", [{"field": "name", "old": "Finance", "new": "Finance reporting"}])])
	denied(after, inp) == set()
	warned(after, inp) == set()
}
