# Tests of wildcard-grant (wildcard_grant.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["wildcard-grant_test"]

import data.permsets.plan_test as fixture

test_fail_wildcard_grant if {
	after := fixture.with_set("people-all", fixture.permission_set(
		"People", ["hq"], ["people=*", "events=read", "*=read"],
		["events=read", "people=edit", "people=export", "people=read"], "sets/hq/people-all.yaml",
	))
	fixture.warned(after, fixture.changes([fixture.set_added(after, "people-all")])) == {{
		"code": "wildcard-grant",
		"object": "PermissionSet/people-all",
		"file": "sets/hq/people-all.yaml",
		"line": 1,
		"message": concat(" ", [
			"permission set people-all (sets/hq/people-all.yaml:1) is not built in but grants *=read, people=*: a",
			"wildcard grows with every feature and action the catalog gains.",
			"List the permissions the set needs instead.",
		]),
	}}
}

test_success_builtin if {
	after := fixture.patched([{"op": "replace", "path": "/sets/staffer/permissions", "value": ["people=*"]}])
	fixture.warned(
		after,
		fixture.changes([fixture.set_changed(after, "staffer", fixture.set_fields(after, "staffer"))]),
	) == set()
}
