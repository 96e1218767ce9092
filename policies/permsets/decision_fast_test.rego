# Tests of decision.rego: the fast table, and an index without a catalog.
# (The fixtures, and the package's METADATA, are in decision_fixture_test.rego.)
package permsets_test

import data.permsets

# The fast table: "1" allows without the decision rule, "0" denies, "2" lets decision decide;
# with time, method or an invalid resource the table is skipped.

# sam holds people=read; zoe holds nothing, but the table below says otherwise.
_forged(row) := json.patch(fixture, [
	{"op": "add", "path": "/instances/a/fast/zoe", "value": _row(row)},
	{"op": "replace", "path": "/instances/a/fast/sam", "value": _row(row)},
])

_allow_forged(row, inp) := v if {
	v := permsets.allow with input as inp with data.permsets_index as _forged(row)
}

_decision_forged(row, inp) := v if {
	v := permsets.decision with input as inp with data.permsets_index as _forged(row)
}

test_success_fast_one_allows_without_decision if {
	inp := {"user": "zoe", "instance": "a", "permission": "people=read"}
	_decision_forged("1111111111", inp).allow == false
	_allow_forged("1111111111", inp) == true
	_allow_forged("1111111111", object.union(inp, {"resource": {"id": "p1"}})) == true
}

test_success_fast_one_with_decision_mocked if {
	permsets.allow with input as {"user": "sam", "instance": "a", "permission": "people=read"}
		with data.permsets_index as fixture
		with permsets.decision as {"allow": false}
}

test_fail_fast_zero_denies_without_decision if {
	inp := {"user": "sam", "instance": "a", "permission": "people=read"}
	_decision_forged("0000000000", inp).allow == true
	_allow_forged("0000000000", inp) == false
}

test_fail_fast_zero_with_decision_mocked if {
	allowed := permsets.allow with input as {"user": "devon", "instance": "a", "permission": "people=read"}
		with data.permsets_index as fixture
		with permsets.decision as {"allow": true}
	allowed == false
}

test_success_fast_two_defers_to_decision if {
	_allow_forged("2222222222", {"user": "sam", "instance": "a", "permission": "people=read"}) == true
	_allow_forged("2222222222", {"user": "zoe", "instance": "a", "permission": "people=read"}) == false
}

test_success_fast_two_with_decision_mocked if {
	permsets.allow with input as {"user": "jordan", "instance": "a", "permission": "api=read"}
		with data.permsets_index as fixture
		with permsets.decision as {"allow": true}
}

test_fail_fast_table_skipped_with_time if {
	_allow_forged(
		"1111111111",
		{"user": "zoe", "instance": "a", "permission": "people=read", "time": _between},
	) == false
}

test_fail_fast_table_skipped_with_method if {
	_allow_forged(
		"1111111111",
		{"user": "zoe", "instance": "a", "permission": "users=read", "method": "GET", "path": "/users"},
	) == false
}

test_fail_fast_table_skipped_with_bad_resource if {
	_allow_forged(
		"1111111111",
		{"user": "zoe", "instance": "a", "permission": "people=read", "resource": "p1"},
	) == false
}

test_fail_fast_table_unknown_permission if {
	_allow_forged("1111111111", {"user": "zoe", "instance": "a", "permission": "people=delete"}) == false
}

# The fixture's fast table agrees with decision for every holder, instance and permission.
test_success_fast_table_agrees_with_decision if {
	disagreements := {[u, i, p] |
		some i, instance in fixture.instances
		some u, _ in instance.holdings
		some p, _ in fixture.catalog.known
		inp := {"user": u, "instance": i, "permission": p}
		_allow(inp) != _decision(inp).allow
	}
	disagreements == set()
}

test_success_fast_table_row_per_unsuspended_holder if {
	rows := {[i, u] | some i, instance in fixture.instances; some u, _ in instance.fast}
	holders := {[
		i,
		u,
	] |
		some i, instance in fixture.instances
		some u, _ in instance.holdings
		not fixture.suspended[u]
	}
	rows == holders
}

# Without a catalog: any well-formed permission is known; wildcard grants stay keys.

test_success_without_catalog_superuser_any_permission if {
	inp := {"user": "ana", "instance": "c", "permission": "widgets=frobnicate"}
	_decision_without_catalog(inp) == {
		"allow": true,
		"permission": "widgets=frobnicate",
		"grants": [{"set": "root", "via": "direct"}],
		"missing": [],
		"reason": "ana may widgets=frobnicate on c through set root (direct)",
	}
	_allow_without_catalog(inp) == true
}

test_success_without_catalog_feature_wildcard if {
	inp := {"user": "ben", "instance": "c", "permission": "people=delete"}
	_decision_without_catalog(inp) == {
		"allow": true,
		"permission": "people=delete",
		"grants": [{"set": "people-all", "via": "direct"}],
		"missing": [],
		"reason": "ben may people=delete on c through set people-all (direct)",
	}
	_allow_without_catalog(inp) == true
}

test_success_without_catalog_action_wildcard if {
	inp := {"user": "ben", "instance": "c", "permission": "people=read"}
	_decision_without_catalog(inp) == {
		"allow": true,
		"permission": "people=read",
		"grants": [{"set": "people-all", "via": "direct"}, {"set": "readers", "via": "direct"}],
		"missing": [],
		"reason": "ben may people=read on c through set people-all (direct), set readers (direct)",
	}
	_allow_without_catalog(inp) == true
	_allow_without_catalog({"user": "cy", "instance": "c", "permission": "finances=read"}) == true
}

test_fail_without_catalog_not_granted if {
	inp := {"user": "cy", "instance": "c", "permission": "finances=edit"}
	_decision_without_catalog(inp) == {
		"allow": false,
		"permission": "finances=edit",
		"grants": [],
		"missing": [],
		"reason": "cy holds no set on c that grants finances=edit",
	}
	_allow_without_catalog(inp) == false
}

# Without a catalog no scope has relation fields, so a scoped grant covers nothing.
test_fail_without_catalog_scoped_grant if {
	inp := {
		"user": "cy",
		"instance": "c",
		"permission": "people=export",
		"resource": {"id": "p1", "point_person": "cy"},
	}
	_decision_without_catalog(inp) == {
		"allow": false,
		"permission": "people=export",
		"grants": [],
		"missing": [],
		"reason": "cy holds people=export on c only for some resources, and none given matches",
	}
	_allow_without_catalog(inp) == false
}

test_fail_without_catalog_suspended if {
	inp := {"user": "dee", "instance": "c", "permission": "people=read"}
	_decision_without_catalog(inp) == {
		"allow": false,
		"permission": "people=read",
		"grants": [{"set": "people-all", "via": "direct"}],
		"missing": [],
		"reason": "dee is suspended and is allowed nothing",
	}
	_allow_without_catalog(inp) == false
}

test_fail_without_catalog_route if {
	inp := {"user": "ben", "instance": "c", "method": "GET", "path": "/people"}
	_decision_without_catalog(inp) == {
		"allow": false,
		"permission": "",
		"grants": [],
		"missing": [],
		"reason": "GET /people is mapped to no permission, so only holders of *=* may call it",
	}
	_allow_without_catalog(inp) == false
	_allow_without_catalog({"user": "ana", "instance": "c", "method": "GET", "path": "/people"}) == true
	_allow_without_catalog({"user": "dee", "instance": "c", "method": "GET", "path": "/people"}) == false
}
