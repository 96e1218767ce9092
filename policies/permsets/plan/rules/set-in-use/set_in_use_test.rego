# Tests of set-in-use (set_in_use.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["set-in-use_test"]

import data.permsets.plan_test as fixture

# Who references staffer in after: the assignment organizers on hq and the role field-team on
# leader (listed role first: the message sorts them).
_staffer_references := [
	{
		"kind": "Role",
		"id": "field-team",
		"instance": "leader",
		"file": "roles/field-team.yaml",
		"line": 1,
		"users": ["lena"],
	},
	{
		"kind": "Assignment",
		"id": "organizers",
		"instance": "hq",
		"file": "assignments/organizers.yaml",
		"line": 1,
		"users": ["bob", "alice"],
	},
]

_staffer_removed_but_held := fixture.patched([
	{"op": "remove", "path": "/sets/staffer"},
	{"op": "remove", "path": "/assigned/staffer"},
	{"op": "add", "path": "/references/staffer", "value": _staffer_references},
])

_staffer_still_held := {
	"code": "set-in-use",
	"object": "PermissionSet/staffer",
	"file": "sets/staffer.yaml",
	"line": 1,
	"message": concat(" ", [
		"permission set staffer (sets/staffer.yaml:1) is removed but still held: assignment organizers",
		"(assignments/organizers.yaml:1) gives it to alice, bob on hq; role field-team (roles/field-team.yaml:1)",
		"gives it to lena on leader. Remove those references in the same change, or keep the set.",
	]),
}

# The problems validation finds in after when staffer is removed and still referenced.
_dangling_staffer := [
	{
		"file": "assignments/organizers.yaml",
		"line": 6,
		"column": 5,
		"code": "unknown-set",
		"message": "unknown set \"staffer\"",
		"set": "staffer",
	},
	{
		"file": "roles/field-team.yaml",
		"line": 7,
		"column": 5,
		"code": "unknown-set",
		"message": "unknown set \"staffer\"",
		"set": "staffer",
	},
]

test_fail_removed_set_lists_holders if {
	fixture.denied(
		_staffer_removed_but_held,
		fixture.changes([fixture.set_removed("staffer")]),
	) == {_staffer_still_held}
}

test_fail_dangling_reference_reported_once if {
	inp := object.union(fixture.changes([fixture.set_removed("staffer")]), {"problems": _dangling_staffer})
	fixture.denied(_staffer_removed_but_held, inp) == {_staffer_still_held}
}

test_fail_instance_taken_out if {
	after := fixture.patched([
		{"op": "replace", "path": "/sets/staffer/instances", "value": ["hq"]},
		{"op": "add", "path": "/references/staffer", "value": _staffer_references},
	])
	inp := fixture.changes([fixture.set_changed(after, "staffer", fixture.set_fields(after, "staffer"))])
	fixture.denied(after, inp) == {{
		"code": "set-in-use",
		"object": "PermissionSet/staffer",
		"file": "sets/staffer.yaml",
		"line": 1,
		"message": concat(" ", [
			"permission set staffer (sets/staffer.yaml:1) is removed from instance leader but still held there:",
			"role field-team (roles/field-team.yaml:1) gives it to lena on leader.",
			"Remove that reference in the same change, or keep leader in the set's instances.",
		]),
	}}
}

test_fail_by_a_role_without_members if {
	after := fixture.patched([
		{"op": "remove", "path": "/sets/events"},
		{
			"op": "add",
			"path": "/references/events",
			"value": [
				{"kind": "Role", "id": "ushers", "instance": "hq", "file": "roles/ushers.yaml", "line": 2, "users": []},
			],
		},
	])
	[entry] := [e | some e in fixture.denied(after, fixture.changes([fixture.set_removed("events")]))]
	entry.message == concat(" ", [
		"permission set events (sets/hq/events.yaml:1) is removed but still held: role ushers",
		"(roles/ushers.yaml:2) gives it to no one yet on hq. Remove that reference in the same change, or keep the",
		"set.",
	])
}

test_success_set_removed_with_its_references if {
	# The assignment goes and the role drops the set: after references staffer nowhere.
	after := fixture.patched([{"op": "remove", "path": "/sets/staffer"}, {"op": "remove", "path": "/assigned/staffer"}])
	inp := fixture.changes([
		fixture.set_removed("staffer"),
		{
			"kind": "Assignment", "id": "organizers", "action": "remove",
			"before": fixture.at("assignments/organizers.yaml"),
			"before_object": {
				"id": "organizers",
				"instance": "hq",
				"users": ["alice", "bob"],
				"permissionSets": ["staffer"],
			},
		},
		{
			"kind": "Role", "id": "field-team", "action": "change",
			"fields": [
				{"field": "permissionSets", "old": ["leader/staffer", "leader/reports"], "new": ["leader/reports"]},
			],
			"before": fixture.at("roles/field-team.yaml"), "after": fixture.at("roles/field-team.yaml"),
			"before_object": {
				"id": "field-team",
				"members": ["lena"],
				"permissionSets": ["leader/staffer", "leader/reports"],
			},
			"after_object": {"id": "field-team", "members": ["lena"], "permissionSets": ["leader/reports"]},
		},
	])
	fixture.denied(after, inp) == set()
	fixture.warned(after, inp) == set()
}

test_success_instance_taken_out_where_no_one_holds_the_set if {
	after := fixture.patched([
		{"op": "replace", "path": "/sets/staffer/instances", "value": ["hq"]},
		{"op": "add", "path": "/references/staffer", "value": [_staffer_references[1]]},
	])
	fixture.denied(
		after,
		fixture.changes([fixture.set_changed(after, "staffer", fixture.set_fields(after, "staffer"))]),
	) == set()
}
