# Tests of actor-not-allowed (actor_not_allowed.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["actor-not-allowed_test"]

import data.permsets.plan_test as fixture

test_fail_role_mapping_changed_by_delegated_admin if {
	inp := fixture.with_actor(
		fixture.changes([fixture.role_changed]),
		fixture.actor("dana", [fixture.may_assign_staffer]),
	)
	fixture.of_code(fixture.denied(fixture.base, inp), "actor-not-allowed") == {{
		"code": "actor-not-allowed",
		"object": "Role/organizers",
		"file": "roles/organizers.yaml",
		"line": 1,
		"message": concat(" ", [
			"dana may not change role organizers (roles/organizers.yaml:1): changes to Role documents need a",
			"system admin.",
		]),
	}}
}

test_success_role_mapping_changed_by_system_admin if {
	admin := object.union(fixture.actor("root", []), {"system_admin": true})
	fixture.denied(fixture.base, fixture.with_actor(fixture.changes([fixture.role_changed]), admin)) == set()
}

test_fail_delegated_admin_assigns_a_set_they_may_not if {
	inp := fixture.with_actor(
		fixture.changes([fixture.assignment_added("a1", "finance")]),
		fixture.actor("dana", [fixture.may_assign_staffer]),
	)
	d := fixture.of_code(fixture.denied(fixture.base, inp), "actor-not-allowed")
	count(d) == 1
	some f in d
	contains(f.message, "does not hold permset=assign covering finance")
}

test_fail_set_edit_without_permset_edit if {
	after := fixture.patched([{"op": "replace", "path": "/sets/outreach/name", "value": "Outreach team"}])
	change := object.union(fixture.set_changed(after, "outreach", fixture.set_fields(after, "outreach")), {
		"before_object": {"id": "outreach", "instances": ["hq"]},
		"after_object": {"id": "outreach", "instances": ["hq"]},
	})
	fixture.codes(fixture.denied(
		after,
		fixture.with_actor(fixture.changes([change]), fixture.actor("dana", [fixture.may_assign_staffer])),
	)) == {"actor-not-allowed"}
}

test_fail_builtin_flag_needs_system_admin if {
	after := fixture.patched([{"op": "replace", "path": "/sets/outreach/builtin", "value": true}])
	change := object.union(fixture.set_changed(after, "outreach", fixture.set_fields(after, "outreach")), {
		"before_object": {"id": "outreach", "instances": ["hq"], "builtin": false},
		"after_object": {"id": "outreach", "instances": ["hq"], "builtin": true},
	})
	may_edit := fixture.grant("permset=edit('outreach')", "permset", "edit", ["outreach"], [])
	d := fixture.denied(after, fixture.with_actor(fixture.changes([change]), fixture.actor("dana", [may_edit])))
	some f in d
	f.code == "actor-not-allowed"
	contains(f.message, "builtin or fixed")
}

test_success_superuser_on_the_instance if {
	gained := {
		"access_changes": [fixture.gains("finance", [fixture.grant("finances=read", "finances", "read", [], [])])],
	}
	owner := object.union(fixture.actor("olu", []), {"superuser": {"hq": true}})
	fixture.denied(
		fixture.base,
		object.union(fixture.with_actor(fixture.changes([fixture.assignment_added("a1", "finance")]), owner), gained),
	) == set()

	# ... but not on another instance, nor for a role.
	elsewhere := object.union(fixture.actor("olu", []), {"superuser": {"leader": true}})
	inp := object.union(
		fixture.with_actor(fixture.changes([fixture.assignment_added("a1", "finance")]), elsewhere),
		gained,
	)
	fixture.codes(fixture.denied(fixture.base, inp)) == {"actor-not-allowed", "escalation"}
	role := fixture.with_actor(fixture.changes([fixture.role_changed]), owner)
	fixture.codes(fixture.denied(fixture.base, role)) == {"actor-not-allowed"}
}

test_success_bootstrap_by_a_system_admin_only if {
	admin := {
		"given": "root",
		"id": "root",
		"declared": true,
		"system_admin": true,
		"bootstrap": true,
		"grants": {},
		"superuser": {},
	}
	inp := fixture.with_actor(fixture.changes([fixture.role_changed, fixture.assignment_added("a1", "finance")]), admin)
	fixture.denied_from(object.union(fixture.base, {"present": false}), fixture.base, inp) == set()
	not_admin := object.union(admin, {"system_admin": false})
	fixture.codes(fixture.denied_from(
		object.union(fixture.base, {"present": false}),
		fixture.base,
		object.union(inp, {"actor": not_admin}),
	)) == {"actor-not-allowed"}
}

test_success_no_actor_no_actor_rules if {
	fixture.denied(
		fixture.base,
		fixture.changes([fixture.role_changed, fixture.assignment_added("a1", "finance")]),
	) == set()
}
