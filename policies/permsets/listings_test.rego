# Tests of listings.rego (effective, manageable_sets, who_can) over the indexes fixture and
# fixture_without_catalog defined in decision_fixture_test.rego. (The package's METADATA is in
# decision_fixture_test.rego.)
package permsets_test

import data.permsets

_effective(inp) := v if {
	v := permsets.effective with input as inp with data.permsets_index as fixture
}

_manageable(inp) := v if {
	v := permsets.manageable_sets with input as inp with data.permsets_index as fixture
}

_who_can(inp) := v if {
	v := permsets.who_can with input as inp with data.permsets_index as fixture
}

_effective_without_catalog(inp) := v if {
	v := permsets.effective with input as inp with data.permsets_index as fixture_without_catalog
}

_manageable_without_catalog(inp) := v if {
	v := permsets.manageable_sets with input as inp with data.permsets_index as fixture_without_catalog
}

_who_can_without_catalog(inp) := v if {
	v := permsets.who_can with input as inp with data.permsets_index as fixture_without_catalog
}

# access: effective's permissions with the sets that give them.

_access(inp) := v if {
	v := permsets.access with input as inp with data.permsets_index as fixture
}

test_success_access_names_the_sets if {
	a := _access({"user": "sam", "instance": "a"})
	a["finances=export"] == [{"set": "finance", "via": "direct"}]
	a["people=read"] == [{"set": "staffer", "via": "role:organizers"}]
	object.keys(a) == {p | some p in _effective({"user": "sam", "instance": "a"}).permissions}
}

test_success_access_superuser_and_scoped if {
	_access({"user": "alice", "instance": "a"})["users=delete"] == [{"set": "admin", "via": "direct"}]
	_access({"user": "priya", "instance": "a"})["people=read(assigned)"] == [
		{"set": "field-organizer", "via": "role:field-team"},
	]
}

test_fail_access_bad_input if {
	not permsets.access with input as {"user": 1, "instance": "a"} with data.permsets_index as fixture
}

# effective: enabled, unexpired sets and the permissions they give after implies and requires.

test_success_effective_sets_and_permissions if {
	_effective({"user": "sam", "instance": "a"}) == {
		"sets": ["finance", "staffer"],
		"permissions": [
			"finances=export",
			"finances=read",
			"people=edit",
			"people=export",
			"people=read",
			"settings=read",
			"users=read",
		],
	}
}

test_success_effective_implied_on_other_instance if {
	_effective({"user": "sam", "instance": "b"}) == {
		"sets": ["staffer"],
		"permissions": ["people=edit", "people=export", "people=read", "settings=read", "users=read"],
	}
}

# finances=export needs people=export unscoped: priya's scoped export does not count.
test_success_effective_leaves_out_unmet_requirements if {
	_effective({"user": "priya", "instance": "a"}) == {
		"sets": ["field-organizer", "finance"],
		"permissions": [
			"finances=read",
			"people=edit(assigned)",
			"people=export(assigned)",
			"people=read(assigned)",
		],
	}
	_effective({"user": "jordan", "instance": "a"}) == {
		"sets": ["support"],
		"permissions": ["users=delete", "users=read"],
	}
}

test_success_effective_object_arguments if {
	_effective({"user": "maria", "instance": "a"}) == {
		"sets": ["onboarding"],
		"permissions": ["permset=assign('staffer','finance')"],
	}
}

test_success_effective_superuser if {
	_effective({"user": "alice", "instance": "a"}) == {
		"sets": ["admin"],
		"permissions": [
			"api=read",
			"finances=export",
			"finances=read",
			"people=edit",
			"people=export",
			"people=read",
			"permset=assign",
			"settings=read",
			"users=delete",
			"users=read",
		],
	}
}

test_success_effective_expiry if {
	_effective({"user": "tomas", "instance": "a", "time": _before_both}) == {
		"sets": ["staffer"],
		"permissions": ["people=edit", "people=export", "people=read", "settings=read", "users=read"],
	}
	_effective({"user": "tomas", "instance": "a", "time": _between}) == {"sets": [], "permissions": []}
	_effective({"user": "kwame", "instance": "a", "time": _between}) == {
		"sets": ["support"],
		"permissions": ["users=delete", "users=read"],
	}
	_effective({"user": "kwame", "instance": "a", "time": _after_both}) == {"sets": [], "permissions": []}
}

test_fail_effective_suspended if {
	_effective({"user": "quinn", "instance": "a"}) == {"sets": [], "permissions": []}
}

test_fail_effective_disabled_set if {
	_effective({"user": "devon", "instance": "a"}) == {"sets": [], "permissions": []}
}

test_fail_effective_nothing_held if {
	_effective({"user": "alice", "instance": "b"}) == {"sets": [], "permissions": []}
	_effective({"user": "sam", "instance": "z"}) == {"sets": [], "permissions": []}
}

test_fail_effective_input_errors if {
	_effective({"user": 1, "instance": ["a"], "time": "soon"}) == {
		"sets": [],
		"permissions": [],
		"errors": [
			"input.instance must be a string",
			"input.time must be an RFC 3339 date and time",
			"input.user must be a string",
		],
	}
}

test_fail_effective_missing_user if {
	_effective({"instance": "a"}) == {"sets": [], "permissions": [], "errors": ["input.user must be a string"]}
}

test_fail_effective_missing_instance if {
	_effective({"user": "sam"}) == {"sets": [], "permissions": [], "errors": ["input.instance must be a string"]}
}

test_success_effective_without_catalog if {
	_effective_without_catalog({"user": "ben", "instance": "c"}) == {
		"sets": ["people-all", "readers"],
		"permissions": ["*=read", "people=*", "people=export(assigned)", "permset=assign"],
	}
	_effective_without_catalog({"user": "ana", "instance": "c"}) == {"sets": ["root"], "permissions": ["*=*"]}
	_effective_without_catalog({"user": "dee", "instance": "c"}) == {"sets": [], "permissions": []}
}

# manageable_sets: the sets on the instance the user may assign.

test_success_manageable_objects_only if {
	_manageable({"user": "maria", "instance": "a"}) == ["finance", "staffer"]
}

# onboarding names finance, which is not on b.
test_success_manageable_objects_on_the_instance if {
	_manageable({"user": "maria", "instance": "b"}) == ["staffer"]
}

test_success_manageable_unscoped_assign if {
	_manageable({"user": "jordan", "instance": "b"}) == [
		"admin",
		"coordinator",
		"field-organizer",
		"onboarding",
		"staffer",
	]
}

test_success_manageable_superuser if {
	_manageable({"user": "alice", "instance": "a"}) == [
		"admin",
		"archived",
		"field-organizer",
		"finance",
		"onboarding",
		"staffer",
		"support",
	]
}

test_fail_manageable_nothing if {
	_manageable({"user": "sam", "instance": "a"}) == []
	_manageable({"user": "alice", "instance": "b"}) == []
	_manageable({"user": "quinn", "instance": "a"}) == []
	_manageable({"user": "maria", "instance": "z"}) == []
}

test_fail_manageable_input_errors if {
	_manageable({"user": "maria", "instance": 1}) == []
	_manageable({"user": "maria", "instance": "a", "time": "soon"}) == []
}

test_fail_manageable_missing_user if {
	_manageable({"instance": "a"}) == []
}

test_success_manageable_without_catalog if {
	_manageable_without_catalog({"user": "ben", "instance": "c"}) == ["people-all", "readers", "root"]
	_manageable_without_catalog({"user": "ana", "instance": "c"}) == ["people-all", "readers", "root"]
	_manageable_without_catalog({"user": "cy", "instance": "c"}) == []
}

# who_can: the users allowed a permission on an instance, sorted, with their grants.

test_success_who_can_includes_superusers_excludes_unmet_requirements if {
	_who_can({"instance": "a", "permission": "finances=export"}) == [
		{"user": "alice", "grants": [{"set": "admin", "via": "direct"}]},
		{"user": "sam", "grants": [{"set": "finance", "via": "direct"}]},
	]
	_who_can({"instance": "a", "permission": "api=read"}) == [
		{"user": "alice", "grants": [{"set": "admin", "via": "direct"}]},
	]
}

# quinn is suspended, devon's set is disabled, lena and priya hold people=read only scoped,
# tomas's assignment ended.
test_success_who_can_excludes_suspended_disabled_expired if {
	_who_can({"instance": "a", "permission": "people=read", "time": _between}) == [
		{"user": "alice", "grants": [{"set": "admin", "via": "direct"}]},
		{"user": "sam", "grants": [{"set": "staffer", "via": "role:organizers"}]},
	]
	_who_can({"instance": "a", "permission": "people=read", "time": _before_both}) == [
		{"user": "alice", "grants": [{"set": "admin", "via": "direct"}]},
		{"user": "sam", "grants": [{"set": "staffer", "via": "role:organizers"}]},
		{"user": "tomas", "grants": [{"set": "staffer", "via": "direct"}]},
	]
}

# At exactly expires the assignment has expired for the listings too; one nanosecond before it
# has not.
test_fail_listings_at_the_instant_it_ends if {
	_effective({"user": "tomas", "instance": "a", "time": "2026-01-01T00:00:00Z"}) == {"sets": [], "permissions": []}
	every entry in _who_can({"instance": "a", "permission": "people=read", "time": "2026-01-01T00:00:00Z"}) {
		entry.user != "tomas"
	}
}

test_success_listings_one_nanosecond_before_the_instant if {
	instant := "2025-12-31T23:59:59.999999999Z"
	_effective({"user": "tomas", "instance": "a", "time": instant}).sets == ["staffer"]
	tomas := {"user": "tomas", "grants": [{"set": "staffer", "via": "direct"}]}
	tomas in _who_can({"instance": "a", "permission": "people=read", "time": instant})
}

test_success_who_can_with_resource if {
	_who_can({
		"instance": "a", "permission": "people=read", "time": _between,
		"resource": {"id": "p1", "point_person": "lena", "path_assignee": ["quinn"]},
	}) == [
		{"user": "alice", "grants": [{"set": "admin", "via": "direct"}]},
		{"user": "lena", "grants": [{"set": "field-organizer", "via": "role:field-team"}]},
		{"user": "sam", "grants": [{"set": "staffer", "via": "role:organizers"}]},
	]
	_who_can({"instance": "b", "permission": "permset=assign", "resource": {"id": "staffer"}}) == [
		{"user": "jordan", "grants": [{"set": "coordinator", "via": "direct"}]},
		{"user": "maria", "grants": [{"set": "onboarding", "via": "direct"}]},
	]
}

# who_can reads the holders of the sets granting the permission from the index: a holding the
# reverse index leaves out (here sam's staffer on a, and the set admin) is not found.
test_success_who_can_answers_from_the_index if {
	index := json.patch(fixture, [
		{"op": "replace", "path": "/instances/a/holders/staffer", "value": ["quinn", "tomas"]},
		{"op": "remove", "path": "/instances/a/granting/*=*"},
	])
	who := permsets.who_can with input as {"instance": "a", "permission": "people=read", "time": _before_both}
		with data.permsets_index as index
	who == [{"user": "tomas", "grants": [{"set": "staffer", "via": "direct"}]}]
}

test_fail_who_can_nobody if {
	_who_can({"instance": "b", "permission": "finances=read"}) == []
	_who_can({"instance": "a", "permission": "people=delete"}) == []
	_who_can({"instance": "z", "permission": "people=read"}) == []
}

test_fail_who_can_malformed_input if {
	not _who_can({"instance": "a"})
	not _who_can({"permission": "people=read"})
	not _who_can({"instance": "a", "permission": 1})
}

test_success_who_can_without_catalog if {
	_who_can_without_catalog({"instance": "c", "permission": "people=read"}) == [
		{"user": "ana", "grants": [{"set": "root", "via": "direct"}]},
		{"user": "ben", "grants": [{"set": "people-all", "via": "direct"}, {"set": "readers", "via": "direct"}]},
		{"user": "cy", "grants": [{"set": "readers", "via": "direct"}]},
	]
	_who_can_without_catalog({"instance": "c", "permission": "widgets=frobnicate"}) == [
		{"user": "ana", "grants": [{"set": "root", "via": "direct"}]},
	]
}

# who_can answers like decision: every user it lists is allowed, and every holder it leaves
# out is not.
test_success_who_can_agrees_with_decision if {
	mismatches := {[i, p, u] |
		some i, instance in fixture.instances
		some p, _ in fixture.catalog.known
		listed := {w.user | some w in _who_can({"instance": i, "permission": p, "time": _between})}
		some u, _ in instance.holdings
		allowed := _decision({"user": u, "instance": i, "permission": p, "time": _between}).allow
		is_listed := u in listed
		allowed != is_listed
	}
	mismatches == set()
}

test_fail_effective_input_not_an_object if {
	"input must be an object" in permsets.effective.errors with input as 7 with data.permsets_index as fixture
}

# who_can reads each candidate's fast cell as decision does (_forged_cell in decision_test.rego
# sets every cell of sam's row on a): "1A" names finance, which does not grant people=read, so
# only the table can give it; a mask names several holdings; a denying cell leaves sam out,
# though the rule allows sam; "1~" and "2~" leave sam to the rule.
_who_can_forged(cell, inp) := v if {
	v := permsets.who_can with input as inp with data.permsets_index as _forged_cell(cell)
}

_sam_in(who) := [e | some e in who; e.user == "sam"]

_reads_on_a := {"instance": "a", "permission": "people=read"}

test_success_who_can_reads_the_fast_table if {
	_sam_in(_who_can_forged("1A", _reads_on_a)) == [{"user": "sam", "grants": [{"set": "finance", "via": "direct"}]}]
	_sam_in(_who_can_forged("1c", _reads_on_a)) == [{"user": "sam", "grants": [
		{"set": "finance", "via": "direct"},
		{"set": "staffer", "via": "role:organizers"},
	]}]
	count(_sam_in(_who_can(_reads_on_a))) == 1
	_sam_in(_who_can_forged("n~", _reads_on_a)) == []
	_sam_in(_who_can_forged("d~", _reads_on_a)) == []
	_sam_in(_who_can_forged("0~", _reads_on_a)) == []
	_sam_in(_who_can_forged("1~", _reads_on_a)) == _sam_in(_who_can(_reads_on_a))
	_sam_in(_who_can_forged("2~", _reads_on_a)) == _sam_in(_who_can(_reads_on_a))
}

test_success_who_can_skips_the_table_with_a_time_or_a_bad_resource if {
	at := object.union(_reads_on_a, {"time": _between})
	_sam_in(_who_can_forged("n~", at)) == _sam_in(_who_can(at))
	count(_sam_in(_who_can(at))) == 1
	bad := object.union(_reads_on_a, {"resource": "p1"})
	_who_can_forged("1A", bad) == _who_can(bad)
}

test_success_who_can_by_rule_is_the_definition if {
	every inp in [
		_reads_on_a,
		{"instance": "a", "permission": "finances=export"},
		{"instance": "b", "permission": "people=edit"},
	] {
		by_rule := permsets._who_can_by_rule with input as inp with data.permsets_index as fixture
		by_rule == _who_can(inp)
		count(by_rule) > 0
	}
}
