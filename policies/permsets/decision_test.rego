# Tests of decision.rego: the helpers the tests share; held directly, through a role, with
# requirements; not held.
# (The fixtures, and the package's METADATA, are in decision_fixture_test.rego.)
package permsets_test

import data.permsets

# The expires_ns of a holding that never expires: the largest int64.
# A fast row from the allow characters of its cells, with the rule deciding every decision.
_row(allows) := concat("", [concat("", [c, "~"]) | some c in split(allows, "")])

# The fast table's decision characters: after "1", a capital letter names the one holding
# that grants it (A the user's first), a character of the mask alphabet the mask of those that
# do; "n~" the user holds sets, none of which grants it; "d~" none is enabled. "~", a route,
# a time, an invalid resource, or no row leave the decision to the rule.

# sam's holdings on a: finance (direct) then staffer (role:organizers); every cell of the row
# is the given one.
_forged_cell(cell) := json.patch(fixture, [{
	"op": "replace", "path": "/instances/a/fast/sam",
	"value": concat("", [cell | some _ in numbers.range(1, 10)]),
}])

_decide_forged(cell, inp) := v if {
	v := permsets.decision with input as inp with data.permsets_index as _forged_cell(cell)
}

_allow_cell_forged(cell, inp) := v if {
	v := permsets.allow with input as inp with data.permsets_index as _forged_cell(cell)
}

_sam_reads := {"user": "sam", "instance": "a", "permission": "people=read"}

test_success_fast_single_names_the_grant if {
	# A names finance, which does not grant people=read: the table answers, not the rule.
	_decide_forged("1A", _sam_reads) == {
		"allow": true,
		"permission": "people=read",
		"grants": [{"set": "finance", "via": "direct"}],
		"missing": [],
		"reason": "sam may people=read on a through set finance (direct)",
	}
	_decide_forged("1B", _sam_reads) == _decision(_sam_reads)
	_decide_forged("1B", _sam_reads).grants == [{"set": "staffer", "via": "role:organizers"}]
}

test_success_fast_mask_names_the_grants if {
	# The mask 3 ("c") names both holdings.
	_decide_forged("1c", _sam_reads) == {
		"allow": true,
		"permission": "people=read",
		"grants": [{"set": "finance", "via": "direct"}, {"set": "staffer", "via": "role:organizers"}],
		"missing": [],
		"reason": "sam may people=read on a through set finance (direct), set staffer (role:organizers)",
	}
	_decide_forged("1b", _sam_reads).grants == [{"set": "staffer", "via": "role:organizers"}]
}

test_fail_fast_cell_skipped_with_time if {
	later := _decide_forged("1A", object.union(_sam_reads, {"time": _after_both}))
	later.grants == [{"set": "staffer", "via": "role:organizers"}]
	bad := _decide_forged("1A", object.union(_sam_reads, {"time": "soon"}))
	bad.reason == "input.time must be an RFC 3339 date and time"
}

test_fail_fast_cell_skipped_with_bad_resource if {
	d := _decide_forged("1A", object.union(_sam_reads, {"resource": "p1"}))
	d.reason == "input.resource must be an object"
}

test_fail_fast_cell_skipped_with_method if {
	d := _decide_forged(
		"1A",
		{"user": "sam", "instance": "a", "permission": "people=read", "method": "DELETE", "path": "/users/42"},
	)
	d.allow == false
	d.reason == "DELETE /users/42 needs users=delete: sam holds no set on a that grants users=delete"
}

test_success_fast_cells_defer_to_rule if {
	_decide_forged("1~", _sam_reads) == _decision(_sam_reads)
	_decide_forged("0~", _sam_reads) == _decision(_sam_reads)
	_decide_forged("10", _sam_reads) == _decision(_sam_reads)
	_decide_forged("2~", _sam_reads) == _decision(_sam_reads)
}

test_fail_fast_nothing_granted if {
	_decide_forged("n~", _sam_reads) == {
		"allow": false,
		"permission": "people=read",
		"grants": [],
		"missing": [],
		"reason": "sam holds no set on a that grants people=read",
	}
	_decide_forged("d~", _sam_reads).reason == "sam holds sets on a, but none is enabled and unexpired"
	_allow_cell_forged("n~", _sam_reads) == false
	_allow_cell_forged("d~", _sam_reads) == false
}

test_fail_allow_without_holdings_whatever_the_input if {
	# zoe holds nothing on a: denied without asking decision, even a decision forged to allow.
	every inp in [
		{"user": "zoe", "instance": "a", "permission": "people=read"},
		{"user": "zoe", "instance": "a", "method": "GET", "path": "/users"},
		{"user": "zoe", "instance": "a", "permission": "people=read", "time": _between},
		{"user": "sam", "instance": "z", "permission": "people=read"},
		{"user": 7, "instance": "a", "permission": "people=read"},
	] {
		allowed := permsets.allow with input as inp
			with data.permsets_index as fixture
			with permsets.decision as {"allow": true}
		allowed == false
	}
}

test_success_allow_with_holdings_asks_decision if {
	permsets.allow with input as {"user": "sam", "instance": "a", "method": "GET", "path": "/users"}
		with data.permsets_index as fixture
		with permsets.decision as {"allow": true}
}

test_fail_decision_without_row_holds_no_set if {
	_decision({"user": "zoe", "instance": "a", "permission": "people=read"}).reason == "zoe holds no set on a"
	d := _decision({"user": "zoe", "instance": "a", "permission": "people=delete"})
	d.reason == "the catalog has no permission people=delete"
}

test_fail_decision_without_row_suspended if {
	suspended := json.patch(fixture, [{"op": "add", "path": "/suspended/zoe", "value": true}])
	d := permsets.decision with input as {"user": "zoe", "instance": "a", "permission": "people=read"}
		with data.permsets_index as suspended
	d.reason == "zoe is suspended and is allowed nothing"
}

test_fail_decision_without_row_user_not_a_string if {
	d := _decision({"user": 7, "instance": "a", "permission": "people=read"})
	d.reason == "input.user must be a string"
}

_never := 9223372036854775807

# Times to decide at: before both ends, between them, after both.
_before_both := "2025-12-01T00:00:00Z"

_between := "2026-06-01T00:00:00Z"

_after_both := "2027-06-01T00:00:00Z"

# The fixture without fast tables: allow answers from decision alone.
_fixture_without_fast := json.remove(fixture, ["instances/a/fast", "instances/b/fast"])

_decision(inp) := v if {
	v := permsets.decision with input as inp with data.permsets_index as fixture
}

_allow(inp) := v if {
	v := permsets.allow with input as inp with data.permsets_index as fixture
}

_allow_without_fast(inp) := v if {
	v := permsets.allow with input as inp with data.permsets_index as _fixture_without_fast
}

_decision_without_catalog(inp) := v if {
	v := permsets.decision with input as inp with data.permsets_index as fixture_without_catalog
}

_allow_without_catalog(inp) := v if {
	v := permsets.allow with input as inp with data.permsets_index as fixture_without_catalog
}

# allow, through the fast table and without it.
_allowed(inp) if {
	_allow(inp) == true
	_allow_without_fast(inp) == true
}

_denied(inp) if {
	_allow(inp) == false
	_allow_without_fast(inp) == false
}

# Held directly, through a role, with requirements.

test_success_allowed_directly if {
	inp := {"user": "sam", "instance": "a", "permission": "finances=read"}
	_decision(inp) == {
		"allow": true,
		"permission": "finances=read",
		"grants": [{"set": "finance", "via": "direct"}],
		"missing": [],
		"reason": "sam may finances=read on a through set finance (direct)",
	}
	_allowed(inp)
}

test_success_allowed_via_role if {
	inp := {"user": "sam", "instance": "a", "permission": "people=edit"}
	_decision(inp) == {
		"allow": true,
		"permission": "people=edit",
		"grants": [{"set": "staffer", "via": "role:organizers"}],
		"missing": [],
		"reason": "sam may people=edit on a through set staffer (role:organizers)",
	}
	_allowed(inp)
}

test_success_implied_permission if {
	inp := {"user": "sam", "instance": "b", "permission": "people=read"}
	_decision(inp) == {
		"allow": true,
		"permission": "people=read",
		"grants": [{"set": "staffer", "via": "role:organizers"}],
		"missing": [],
		"reason": "sam may people=read on b through set staffer (role:organizers)",
	}
	_allowed(inp)
}

test_success_requirements_met_from_another_set if {
	inp := {"user": "sam", "instance": "a", "permission": "finances=export"}
	_decision(inp) == {
		"allow": true,
		"permission": "finances=export",
		"grants": [{"set": "finance", "via": "direct"}],
		"missing": [],
		"reason": "sam may finances=export on a through set finance (direct)",
	}
	_allowed(inp)
}

test_fail_missing_requirement if {
	inp := {"user": "priya", "instance": "a", "permission": "finances=export"}
	_decision(inp) == {
		"allow": false,
		"permission": "finances=export",
		"grants": [{"set": "finance", "via": "direct"}],
		"missing": ["people=export"],
		"reason": "finances=export on a requires people=export, which priya does not hold",
	}
	_denied(inp)
}

# priya may export the people assigned to her, but that scoped grant does not unlock the
# export of every finance record.
test_fail_missing_requirement_held_only_scoped if {
	inp := {
		"user": "priya", "instance": "a", "permission": "finances=export",
		"resource": {"id": "donation-7", "point_person": "priya"},
	}
	_decision(inp) == {
		"allow": false,
		"permission": "finances=export",
		"grants": [{"set": "finance", "via": "direct"}],
		"missing": ["people=export"],
		"reason": "finances=export on a requires people=export, which priya does not hold",
	}
	_denied(inp)
}

test_fail_missing_requirement_api_needs_settings if {
	inp := {"user": "jordan", "instance": "a", "permission": "api=read"}
	_decision(inp) == {
		"allow": false,
		"permission": "api=read",
		"grants": [{"set": "support", "via": "direct"}],
		"missing": ["settings=read"],
		"reason": "api=read on a requires settings=read, which jordan does not hold",
	}
	_denied(inp)
}

# Not held.

test_fail_no_set_on_instance if {
	inp := {"user": "alice", "instance": "b", "permission": "people=read"}
	_decision(inp) == {
		"allow": false,
		"permission": "people=read",
		"grants": [],
		"missing": [],
		"reason": "alice holds no set on b",
	}
	_denied(inp)
}

test_fail_unknown_user if {
	inp := {"user": "zoe", "instance": "a", "permission": "people=read"}
	_decision(inp) == {
		"allow": false,
		"permission": "people=read",
		"grants": [],
		"missing": [],
		"reason": "zoe holds no set on a",
	}
	_denied(inp)
}

test_success_set_on_a if {
	_allowed({"user": "sam", "instance": "a", "permission": "finances=read"})
}

test_fail_set_on_a_not_on_b if {
	inp := {"user": "sam", "instance": "b", "permission": "finances=read"}
	_decision(inp) == {
		"allow": false,
		"permission": "finances=read",
		"grants": [],
		"missing": [],
		"reason": "sam holds no set on b that grants finances=read",
	}
	_denied(inp)
}

test_fail_disabled_set if {
	inp := {"user": "devon", "instance": "a", "permission": "users=delete"}
	_decision(inp) == {
		"allow": false,
		"permission": "users=delete",
		"grants": [],
		"missing": [],
		"reason": "devon holds sets on a, but none is enabled and unexpired",
	}
	_denied(inp)
}

# The fixtures list each user's holdings inline, for reading; the index keeps them as records
# of the instance, lists record ids per user and, per permission, the records that can cover it,
# as engine.Compile writes them.
_with_records(ix) := object.union(ix, {"instances": {name: object.union(inst, {
	"holdings": {user: [sprintf("%s/%d", [user, i]) | some i, _ in hs] | some user, hs in inst.holdings},
	"records": records,
	"covering": _covering(ix, records),
}) |
	some name, inst in ix.instances
	records := {sprintf("%s/%d", [user, i]): h | some user, hs in inst.holdings; some i, h in hs}
}})

_covering(ix, records) := {key: {id: _how(ix, h, key) |
	some id, h in records
	key in _record_keys(ix, h)
} |
	some key in {k | some h in records; some k in _record_keys(ix, h)}
}

# How a record covers a key: "s" its set is *=*, "u" a grant without arguments, "c" only
# grants for some resources.
_how(ix, h, key) := "s" if {
	key in _superuser_keys(ix, h)
} else := "u" if {
	some grant in ix.sets[h.set].grants[key]
	grant.unconditional
} else := "c"

_record_keys(ix, h) := object.keys(ix.sets[h.set].grants) | _superuser_keys(ix, h)

_superuser_keys(ix, h) := {"*=*"} | object.keys(object.get(object.get(ix, "catalog", {}), "known", {})) if {
	ix.sets[h.set].superuser
} else := set()

test_fail_input_not_an_object if {
	permsets.decision == {
		"allow": false,
		"permission": "",
		"grants": [],
		"missing": [],
		"reason": concat(" ", [
			"input must be an object; input needs a permission (feature=action) or a method and a path;",
			"input.instance must be a string; input.user must be a string",
		]),
	} with input as ["alice", "a", "people=read"]
		with data.permsets_index as fixture
	not permsets.allow with input as "alice" with data.permsets_index as fixture
}
