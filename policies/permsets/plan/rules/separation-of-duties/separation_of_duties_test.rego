# Tests of separation-of-duties (separation_of_duties.rego), over the fixture of plan_test.rego.
package permsets.plan.rules["separation-of-duties_test"]

import data.permsets.plan_test as fixture

_alice_approves := {
	"user": "alice",
	"instance": "hq",
	"gained": [{"permission": "payments=approve", "grants": [{"set": "approvals", "via": "direct"}]}],
	"lost": [],
	"before_keys": ["payments=create", "people=read"],
	"after_keys": ["payments=approve", "payments=create", "people=read"],
	"superuser_after": false,
}

_access(access_changes) := {"changes": [], "access_changes": access_changes, "problems": [], "actor": null}

test_fail_alice_approves if {
	fixture.denied(fixture.base, _access([_alice_approves])) == {{
		"code": "separation-of-duties",
		"object": "User/alice",
		"file": "catalog.yaml",
		"line": 30,
		"message": concat(" ", [
			"alice would newly hold every permission of separation-of-duties rule payments (catalog.yaml:30) on",
			"hq: payments=create, payments=approve. Keep them with different people: drop the grant that gives",
			"alice the last of them.",
		]),
	}}
}

test_fail_rule_placed_at_the_catalog if {
	after := fixture.patched([
		{"op": "replace", "path": "/catalog/separationOfDuties/0/file", "value": ""},
		{"op": "replace", "path": "/catalog/separationOfDuties/0/line", "value": 0},
	])
	[entry] := [e | some e in fixture.denied(after, _access([_alice_approves]))]
	[entry.file, entry.line] == ["catalog.yaml", 1]
	contains(entry.message, "rule payments (catalog.yaml:1) on hq")
}

test_success_superuser if {
	fixture.denied(fixture.base, _access([object.union(_alice_approves, {"superuser_after": true})])) == set()
}

test_success_held_before_or_not_complete if {
	both_before := object.union(_alice_approves, {
		"gained": [{"permission": "people=edit", "grants": [{"set": "staffer", "via": "direct"}]}],
		"before_keys": ["payments=approve", "payments=create"],
		"after_keys": ["payments=approve", "payments=create", "people=edit"],
	})
	only_one := object.union(_alice_approves, {"before_keys": [], "after_keys": ["payments=approve"]})
	no_gain := object.union(_alice_approves, {"gained": []})
	fixture.denied(fixture.base, _access([both_before, only_one, no_gain])) == set()
}
