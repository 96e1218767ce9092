# Tests of invalid (invalid.rego), over the fixture of plan_test.rego.
package permsets.plan.rules.invalid_test

import data.permsets.plan_test as fixture

test_fail_other_problems if {
	inp := object.union(fixture.changes([]), {"problems": [
		{
			"file": "assignments/organizers.yaml",
			"line": 4,
			"column": 3,
			"code": "schema",
			"message": "users must be a list",
		},
		{
			"file": "roles/field-team.yaml",
			"line": 7,
			"column": 5,
			"code": "unknown-set",
			"message": "unknown set \"stafer\"; did you mean \"staffer\"?",
			"set": "stafer",
		},
	]})
	fixture.denied(fixture.base, inp) == {
		{
			"code": "invalid", "object": "", "file": "assignments/organizers.yaml", "line": 4,
			"message": "schema: users must be a list",
		},
		{
			"code": "invalid", "object": "", "file": "roles/field-team.yaml", "line": 7,
			"message": "unknown-set: unknown set \"stafer\"; did you mean \"staffer\"?",
		},
	}
}

test_fail_dangling_reference_no_one_holds if {
	# events is removed and referenced by no assignment or role, but editableSets still names
	# it: set-in-use does not report it, so the problem is reported as it is.
	after := fixture.patched([{"op": "remove", "path": "/sets/events"}])
	problem := {
		"file": "instances/hq.yaml",
		"line": 9,
		"column": 7,
		"code": "unknown-set",
		"message": "editableSets: unknown set \"events\"",
		"set": "events",
	}
	inp := object.union(fixture.changes([fixture.set_removed("events")]), {"problems": [problem]})
	fixture.denied(after, inp) == {{
		"code": "invalid", "object": "", "file": "instances/hq.yaml", "line": 9,
		"message": "unknown-set: editableSets: unknown set \"events\"",
	}}
}
