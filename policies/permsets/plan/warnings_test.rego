# Tests of the warnings (warnings.rego) over the base of plan_test.rego. (The package's
# annotations are in plan_test.rego.)
package permsets.plan_test

# An after side with one more set on hq, assigned.
_with_set(id, s) := patched([
	{"op": "add", "path": concat("/", ["", "sets", id]), "value": s},
	{"op": "add", "path": concat("/", ["", "assigned", id]), "value": true},
])

# ineffective-permission

test_warn_ineffective_permission if {
	# events gains finances=export without the finances=read and people=export it requires;
	# exporter grants finances=read and finances=export without people=export.
	after := json.patch(
		_with_set("exporter", permission_set(
			"Exporter", ["hq"], ["finances=read", "finances=export"],
			["finances=export", "finances=read"], "sets/hq/exporter.yaml",
		)),
		[
			{"op": "replace", "path": "/sets/events/permissions", "value": ["events=read", "finances=export"]},
			{"op": "replace", "path": "/sets/events/grants", "value": ["events=read", "finances=export"]},
		],
	)
	inp := changes([set_changed(after, "events", set_fields(after, "events")), set_added(after, "exporter")])
	warned(after, inp) == {
		{
			"code": "ineffective-permission",
			"object": "PermissionSet/events",
			"file": "sets/hq/events.yaml",
			"line": 1,
			"message": "permission set events (sets/hq/events.yaml:1) grants finances=export but not finances=read, people=export, which it requires: holders who lack them from another set get nothing from finances=export. Add them to the set, or check that every holder has them elsewhere.",
		},
		{
			"code": "ineffective-permission",
			"object": "PermissionSet/exporter",
			"file": "sets/hq/exporter.yaml",
			"line": 1,
			"message": "permission set exporter (sets/hq/exporter.yaml:1) grants finances=export but not people=export, which it requires: holders who lack it from another set get nothing from finances=export. Add it to the set, or check that every holder has it elsewhere.",
		},
	}
}

test_no_warn_ineffective_permission_superuser_or_unchanged if {
	# root holds *=*: nothing it grants lacks a requirement. archived (unchanged) is not looked at.
	root := object.union(permission_set("Root", ["hq"], ["*=*"], ["finances=export"], "sets/hq/root.yaml"), {"builtin": true, "superuser": true})
	after := json.patch(_with_set("root", root), [{"op": "replace", "path": "/sets/archived/grants", "value": ["finances=export"]}])
	warned(after, changes([set_added(after, "root")])) == set()
}

# wildcard-grant

test_warn_wildcard_grant if {
	after := _with_set("people-all", permission_set(
		"People", ["hq"], ["people=*", "events=read", "*=read"],
		["events=read", "people=edit", "people=export", "people=read"], "sets/hq/people-all.yaml",
	))
	warned(after, changes([set_added(after, "people-all")])) == {{
		"code": "wildcard-grant",
		"object": "PermissionSet/people-all",
		"file": "sets/hq/people-all.yaml",
		"line": 1,
		"message": "permission set people-all (sets/hq/people-all.yaml:1) is not built in but grants *=read, people=*: a wildcard grows with every feature and action the catalog gains. List the permissions the set needs instead.",
	}}
}

test_no_warn_wildcard_grant_builtin if {
	after := patched([{"op": "replace", "path": "/sets/staffer/permissions", "value": ["people=*"]}])
	warned(after, changes([set_changed(after, "staffer", set_fields(after, "staffer"))])) == set()
}

# unassigned-set

test_warn_unassigned_set if {
	after := patched([{"op": "add", "path": "/sets/spare", "value": permission_set("Spare", ["hq"], ["events=read"], ["events=read"], "sets/hq/spare.yaml")}])
	warned(after, changes([set_added(after, "spare")])) == {{
		"code": "unassigned-set",
		"object": "PermissionSet/spare",
		"file": "sets/hq/spare.yaml",
		"line": 1,
		"message": "permission set spare (sets/hq/spare.yaml:1) is assigned to nobody: no assignment or role gives it. Assign it, or leave it out until someone needs it.",
	}}
}

test_no_warn_unassigned_set_assigned_or_removed if {
	after := patched([{"op": "remove", "path": "/sets/events"}, {"op": "remove", "path": "/assigned/events"}])
	warned(after, changes([set_removed("events")])) == set()
	assigned := _with_set("spare", permission_set("Spare", ["hq"], ["events=read"], ["events=read"], "sets/hq/spare.yaml"))
	warned(assigned, changes([set_added(assigned, "spare")])) == set()
}

# expiring-assignment

_assignment_added(id, fields) := {
	"kind": "Assignment",
	"id": id,
	"action": "add",
	"after": at(concat("", ["assignments/", id, ".yaml"])),
	"after_object": object.union({"id": id, "instance": "hq", "users": ["bob", "alice"], "permissionSets": ["finance", "events"]}, fields),
}

test_warn_expiring_assignment if {
	inp := changes([_assignment_added("quarter-end", {"expires": "2026-12-10T00:00:00Z"})])
	warned(base, inp) == {{
		"code": "expiring-assignment",
		"object": "Assignment/quarter-end",
		"file": "assignments/quarter-end.yaml",
		"line": 1,
		"message": "assignment quarter-end (assignments/quarter-end.yaml:1) expires 2026-12-10T00:00:00Z, within 14 days: from then on it no longer gives finance, events to alice, bob on hq. Set a later expires if the access should last.",
	}}
}

test_warn_expiring_assignment_already_expired if {
	inp := changes([_assignment_added("summer", {"expires": "2026-08-31T23:59:59Z"})])
	warned(base, inp) == {{
		"code": "expiring-assignment",
		"object": "Assignment/summer",
		"file": "assignments/summer.yaml",
		"line": 1,
		"message": "assignment summer (assignments/summer.yaml:1) has already expired (expires 2026-08-31T23:59:59Z), so it gives nothing. Remove it, or set a later expires if the access should go on.",
	}}
}

test_warn_expiring_assignment_within_a_day if {
	after := patched([{"op": "replace", "path": "/repository/expiringWithinNs", "value": 43200000000000}])
	inp := changes([_assignment_added("night-shift", {"expires": "2026-12-01T06:00:00Z"})])
	[entry] := [w | some w in warned(after, inp)]
	contains(entry.message, "expires 2026-12-01T06:00:00Z, within 1 day: ")
}

test_no_warn_expiring_assignment_later_or_never if {
	inp := changes([
		_assignment_added("year", {"expires": "2027-06-30T00:00:00Z"}),
		_assignment_added("permanent", {}),
		{
			# Removing an assignment that expires soon: nothing to look at.
			"kind": "Assignment", "id": "quarter-end", "action": "remove", "before": at("assignments/quarter-end.yaml"),
			"before_object": {"id": "quarter-end", "instance": "hq", "users": ["alice"], "permissionSets": ["finance"], "expires": "2026-12-10T00:00:00Z"},
		},
	])
	warned(base, inp) == set()
}

# set-naming

_naming := patched([
	{"op": "replace", "path": "/repository/setIdPattern", "value": "^[a-z][a-z0-9-]*$"},
	{"op": "replace", "path": "/repository/setNamePattern", "value": "^[A-Z]"},
	{"op": "add", "path": "/sets/Bulk_Export", "value": permission_set("bulk export", ["hq"], ["events=read"], ["events=read"], "sets/hq/bulk.yaml")},
	{"op": "add", "path": "/assigned/Bulk_Export", "value": true},
])

test_warn_set_naming if {
	warned(_naming, changes([set_added(_naming, "Bulk_Export")])) == {
		{
			"code": "set-naming",
			"object": "PermissionSet/Bulk_Export",
			"file": "sets/hq/bulk.yaml",
			"line": 1,
			"message": "permission set Bulk_Export (sets/hq/bulk.yaml:1) has an id that does not match the repository's setIdPattern ^[a-z][a-z0-9-]*$. Choose an id that matches.",
		},
		{
			"code": "set-naming",
			"object": "PermissionSet/Bulk_Export",
			"file": "sets/hq/bulk.yaml",
			"line": 1,
			"message": "permission set Bulk_Export (sets/hq/bulk.yaml:1) is named \"bulk export\", which does not match the repository's setNamePattern ^[A-Z]. Rename it to match.",
		},
	}
}

test_no_warn_set_naming_matching_empty_or_invalid_pattern if {
	events := patched([
		{"op": "replace", "path": "/repository/setIdPattern", "value": "^[a-z][a-z0-9-]*$"},
		{"op": "replace", "path": "/repository/setNamePattern", "value": "^[A-Z]"},
		{"op": "replace", "path": "/sets/events/name", "value": "Events and rallies"},
	])
	warned(events, changes([set_changed(events, "events", set_fields(events, "events"))])) == set()

	unchecked := json.patch(_naming, [
		{"op": "replace", "path": "/repository/setIdPattern", "value": ""},
		{"op": "replace", "path": "/repository/setNamePattern", "value": "(unclosed"},
	])
	warned(unchecked, changes([set_added(unchecked, "Bulk_Export")])) == set()
}
