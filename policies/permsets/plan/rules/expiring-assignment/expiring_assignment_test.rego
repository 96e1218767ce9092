# Tests of expiring-assignment (expiring_assignment.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["expiring-assignment_test"]

import data.permsets.plan_test as fixture

_assignment_added(id, fields) := {
	"kind": "Assignment",
	"id": id,
	"action": "add",
	"after": fixture.at(concat("", ["assignments/", id, ".yaml"])),
	"after_object": object.union(
		{"id": id, "instance": "hq", "users": ["bob", "alice"], "permissionSets": ["finance", "events"]},
		fields,
	),
}

test_fail_expiring_assignment if {
	inp := fixture.changes([_assignment_added("quarter-end", {"expires": "2026-12-10T00:00:00Z"})])
	fixture.warned(fixture.base, inp) == {{
		"code": "expiring-assignment",
		"object": "Assignment/quarter-end",
		"file": "assignments/quarter-end.yaml",
		"line": 1,
		"message": concat(" ", [
			"assignment quarter-end (assignments/quarter-end.yaml:1) expires 2026-12-10T00:00:00Z, within 14 days:",
			"from then on it no longer gives finance, events to alice, bob on hq.",
			"Set a later expires if the access should last.",
		]),
	}}
}

test_fail_already_expired if {
	inp := fixture.changes([_assignment_added("summer", {"expires": "2026-08-31T23:59:59Z"})])
	fixture.warned(fixture.base, inp) == {{
		"code": "expiring-assignment",
		"object": "Assignment/summer",
		"file": "assignments/summer.yaml",
		"line": 1,
		"message": concat(" ", [
			"assignment summer (assignments/summer.yaml:1) has already expired (expires 2026-08-31T23:59:59Z), so",
			"it gives nothing. Remove it, or set a later expires if the access should go on.",
		]),
	}}
}

test_fail_within_a_day if {
	after := fixture.patched([{"op": "replace", "path": "/repository/expiringWithinNs", "value": 43200000000000}])
	inp := fixture.changes([_assignment_added("night-shift", {"expires": "2026-12-01T06:00:00Z"})])
	[entry] := [w | some w in fixture.warned(after, inp)]
	contains(entry.message, "expires 2026-12-01T06:00:00Z, within 1 day: ")
}

test_success_later_or_never if {
	inp := fixture.changes([
		_assignment_added("year", {"expires": "2027-06-30T00:00:00Z"}),
		_assignment_added("permanent", {}),
		{
			# Removing an assignment that expires soon: nothing to look at.
			"kind": "Assignment", "id": "quarter-end", "action": "remove", "before": fixture.at("assignments/quarter-end.yaml"),
			"before_object": {
				"id": "quarter-end",
				"instance": "hq",
				"users": ["alice"],
				"permissionSets": ["finance"],
				"expires": "2026-12-10T00:00:00Z",
			},
		},
	])
	fixture.warned(fixture.base, inp) == set()
}
