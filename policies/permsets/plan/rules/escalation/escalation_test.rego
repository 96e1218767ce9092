# Tests of escalation (escalation.rego), over the fixture of plan_test.rego.
package permsets.plan.rules.escalation_test

import data.permsets.plan_test as fixture

test_success_delegated_admin_assigns_staffer_holding_all_of_it if {
	inp := object.union(
		fixture.with_actor(
			fixture.changes([fixture.assignment_added("a1", "staffer")]),
			fixture.actor("dana", array.concat([fixture.may_assign_staffer], fixture.staffer_perms)),
		),
		{"access_changes": [fixture.gains("staffer", fixture.staffer_perms)]},
	)
	fixture.denied(fixture.base, inp) == set()
}

test_fail_assigning_what_the_actor_does_not_hold if {
	inp := object.union(
		fixture.with_actor(
			fixture.changes([fixture.assignment_added("a1", "staffer")]),
			fixture.actor("dana", [fixture.may_assign_staffer]),
		),
		{"access_changes": [fixture.gains("staffer", fixture.staffer_perms)]},
	)
	fixture.denied(fixture.base, inp) == {{
		"code": "escalation",
		"object": "User/bob",
		"file": "sets/staffer.yaml",
		"line": 1,
		"message": concat(" ", [
			"dana would give bob people=read, people=edit on hq, which dana does not hold there in the base:",
			"nobody may grant more than they hold. Leave it out, or have someone who holds it (or a system admin)",
			"make the change.",
		]),
	}}
}

# A scoped grant does not cover the unscoped permission; the unscoped one covers the scoped.
test_fail_grant_coverage if {
	scoped := fixture.grant("people=read(assigned)", "people", "read", [], ["assigned"])
	unscoped := fixture.grant("people=read", "people", "read", [], [])
	base_inp := fixture.with_actor(
		fixture.changes([fixture.assignment_added("a1", "staffer")]),
		fixture.actor("dana", [fixture.may_assign_staffer, scoped]),
	)
	fixture.of_code(
		fixture.denied(
			fixture.base,
			object.union(base_inp, {"access_changes": [fixture.gains("staffer", [unscoped])]}),
		),
		"escalation",
	) != set()
	wide := fixture.with_actor(
		fixture.changes([fixture.assignment_added("a1", "staffer")]),
		fixture.actor("dana", [fixture.may_assign_staffer, unscoped]),
	)
	fixture.of_code(
		fixture.denied(fixture.base, object.union(wide, {"access_changes": [fixture.gains("staffer", [scoped])]})),
		"escalation",
	) == set()
	every_feature := fixture.grant("*=*", "*", "*", [], [])
	star := fixture.with_actor(
		fixture.changes([fixture.assignment_added("a1", "staffer")]),
		fixture.actor("dana", [every_feature]),
	)
	fixture.denied(
		fixture.base,
		object.union(star, {"access_changes": [fixture.gains("staffer", [unscoped])]}),
	) == set()
}

test_fail_adding_superuser_to_a_set_the_actor_holds if {
	after := fixture.patched([{"op": "replace", "path": "/sets/outreach/permissions", "value": ["people=read", "*=*"]}])
	change := object.union(fixture.set_changed(after, "outreach", fixture.set_fields(after, "outreach")), {
		"before_object": {"id": "outreach", "instances": ["hq"], "permissions": ["people=read"]},
		"after_object": {"id": "outreach", "instances": ["hq"], "permissions": ["people=read", "*=*"]},
	})
	may_edit := fixture.grant("permset=edit('outreach')", "permset", "edit", ["outreach"], [])
	inp := object.union(
		fixture.with_actor(
			fixture.changes([change]),
			fixture.actor("dana", [may_edit, fixture.grant("people=read", "people", "read", [], [])]),
		),
		{
			"access_changes": [
				object.union(
					fixture.gains("outreach", [fixture.grant("finances=read", "finances", "read", [], [])]),
					{"user": "dana"},
				),
			],
		},
	)
	fixture.codes(fixture.denied(after, inp)) == {"escalation"}
}

test_fail_reenabling_an_assigned_set_by_a_non_admin if {
	after := fixture.patched([{"op": "replace", "path": "/sets/archived/enabled", "value": true}])
	change := object.union(fixture.set_changed(after, "archived", fixture.set_fields(after, "archived")), {
		"before_object": {"id": "archived", "instances": ["hq"], "enabled": false},
		"after_object": {"id": "archived", "instances": ["hq"], "enabled": true},
	})
	may_edit := fixture.grant("permset=edit('archived')", "permset", "edit", ["archived"], [])
	inp := object.union(fixture.with_actor(fixture.changes([change]), fixture.actor("dana", [may_edit])), {
		"access_changes": [fixture.gains("archived", [fixture.grant("people=export", "people", "export", [], [])])],
	})
	fixture.codes(fixture.denied(after, inp)) == {"escalation"}
	admin := object.union(fixture.actor("root", []), {"system_admin": true})
	fixture.denied(after, object.union(inp, {"actor": admin})) == set()
}

# Judged on before: a grant the same change gives the actor does not count.
test_fail_actor_granting_themselves_in_the_same_change if {
	inp := object.union(
		fixture.with_actor(fixture.changes([fixture.assignment_added("a1", "finance")]), fixture.actor("bob", [])),
		{"access_changes": [fixture.gains("finance", [fixture.grant("finances=read", "finances", "read", [], [])])]},
	)
	fixture.codes(fixture.denied(fixture.base, inp)) == {"actor-not-allowed", "escalation"}
}
