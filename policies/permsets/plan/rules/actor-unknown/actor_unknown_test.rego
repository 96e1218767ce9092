# Tests of actor-unknown (actor_unknown.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["actor-unknown_test"]

import data.permsets.plan_test as fixture

test_fail_undeclared_actor if {
	unknown := {
		"given": "mallory@example.org",
		"id": "",
		"declared": false,
		"system_admin": false,
		"bootstrap": false,
		"grants": {},
		"superuser": {},
	}
	fixture.denied(fixture.base, fixture.with_actor(fixture.changes([]), unknown)) == {{
		"code": "actor-unknown",
		"object": "User/mallory@example.org",
		"file": "",
		"line": 0,
		"message": concat(" ", [
			"mallory@example.org is not declared by a User of the base (by id, email or login), so no change of",
			"theirs can be allowed. Declare them in a User document first, or have a declared user make the",
			"change.",
		]),
	}}
}
