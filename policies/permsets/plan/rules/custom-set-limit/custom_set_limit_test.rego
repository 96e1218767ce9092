# Tests of custom-set-limit (custom_set_limit.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["custom-set-limit_test"]

import data.permsets.plan_test as fixture

test_fail_sixth_custom_set_on_hq if {
	after := fixture.patched([
		{
			"op": "add",
			"path": "/sets/volunteers",
			"value": fixture.permission_set(
				"Volunteers",
				["hq"],
				["people=read"],
				["people=read"],
				"sets/hq/volunteers.yaml",
			),
		},
		{"op": "add", "path": "/assigned/volunteers", "value": true},
	])
	fixture.denied(after, fixture.changes([fixture.set_added(after, "volunteers")])) == {{
		"code": "custom-set-limit",
		"object": "Instance/hq",
		"file": "instances/hq.yaml",
		"line": 1,
		"message": concat(" ", [
			"instance hq (instances/hq.yaml:1) would have 6 custom permission sets, more than its maxCustomSets of",
			"5 (5 before; new on it: volunteers). Remove custom sets from hq, or raise its maxCustomSets.",
		]),
	}}
}

test_success_custom_sets_above_limit_that_do_not_grow if {
	# legacy has 3 custom sets for a limit of 1; editing one keeps 3.
	after := fixture.patched([{
		"op": "replace", "path": "/sets/legacy-reports/permissions",
		"value": ["finances=read", "people=read"],
	}])
	fixture.denied(
		after,
		fixture.changes([fixture.set_changed(after, "legacy-reports", fixture.set_fields(after, "legacy-reports"))]),
	) == set()
}

test_success_builtin_set_or_raised_limit if {
	builtin := object.union(
		fixture.permission_set("Greeter", ["hq"], ["people=read"], ["people=read"], "sets/greeter.yaml"),
		{"builtin": true},
	)
	after := fixture.patched([{"op": "add", "path": "/sets/greeter", "value": builtin}])
	fixture.denied(after, fixture.changes([fixture.set_added(after, "greeter")])) == set()

	raised := fixture.patched([
		{
			"op": "add",
			"path": "/sets/volunteers",
			"value": fixture.permission_set(
				"Volunteers",
				["hq"],
				["people=read"],
				["people=read"],
				"sets/hq/volunteers.yaml",
			),
		},
		{"op": "replace", "path": "/instances/hq/maxCustomSets", "value": 6},
	])
	fixture.denied(raised, fixture.changes([fixture.set_added(raised, "volunteers")])) == set()
}

test_fail_limit_of_new_instance if {
	after := fixture.patched([
		{"op": "add", "path": "/instances/tenant", "value": fixture.tenant},
		{
			"op": "add",
			"path": "/sets/tenant-staff",
			"value": fixture.permission_set(
				"Tenant staff",
				["tenant"],
				["people=read"],
				["people=read"],
				"sets/tenant/staff.yaml",
			),
		},
	])
	fixture.denied(after, fixture.changes([fixture.tenant_added, fixture.set_added(after, "tenant-staff")])) == {{
		"code": "custom-set-limit",
		"object": "Instance/tenant",
		"file": "instances/tenant.yaml",
		"line": 1,
		"message": concat(" ", [
			"instance tenant (instances/tenant.yaml:1) would have 1 custom permission set, more than its",
			"maxCustomSets of 0 (0 before; new on it: tenant-staff).",
			"Remove custom sets from tenant, or raise its maxCustomSets.",
		]),
	}}
}
