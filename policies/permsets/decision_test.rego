# METADATA
# title: tests of permsets decisions
# description: |
#   Tests of decision.rego (allow and decision) over small hand-written indexes in the shape of
#   docs/engine.md: fixture (with a catalog, two instances a and b) and
#   fixture_without_catalog (wildcard keys kept as keys). listings_test.rego uses them too.
package permsets_test

import data.permsets

# The index of a repository with a catalog (what engine.Compile gives for it):
#
#   catalog:  people read/edit/export (scope assigned: point_person, path_assignee,
#             step_assignee), finances read/export, settings read, api read, permset assign,
#             users read/delete; people=edit implies people=read; api=read requires
#             settings=read; finances=export requires finances=read and people=export;
#             routes GET /users, GET /users/{id} (users=read), DELETE /users/{id}
#             (users=delete), GET /exports/{id} (finances=export and people=export).
#   sets:     admin (*=*) on a and b; archived (disabled) on a; coordinator on b;
#             field-organizer (scoped) on a and b; finance on a; onboarding
#             (permset=assign('staffer','finance')) on a and b; staffer on a and b; support on a.
#   holdings: alice admin on a; devon archived on a; jordan support on a, coordinator on b;
#             kwame support on a until 2027-01-01; lena and priya field-organizer through the
#             role field-team on a and b, priya finance on a; maria onboarding on a and b;
#             quinn (suspended) and sam staffer through the role organizers on a and b, sam
#             finance on a; tomas staffer on a until 2026-01-01.
fixture := _with_records(_fixture)

_fixture := {
	"catalog": {
		"known": {
			"api=read": true,
			"finances=export": true,
			"finances=read": true,
			"people=edit": true,
			"people=export": true,
			"people=read": true,
			"permset=assign": true,
			"settings=read": true,
			"users=delete": true,
			"users=read": true,
		},
		"positions": {
			"api=read": 0,
			"finances=export": 2,
			"finances=read": 4,
			"people=edit": 6,
			"people=export": 8,
			"people=read": 10,
			"permset=assign": 12,
			"settings=read": 14,
			"users=delete": 16,
			"users=read": 18,
		},
		"requires": {
			"api=read": ["settings=read"],
			"finances=export": ["finances=read", "people=export"],
		},
		"routes": {
			"DELETE": {"3": [{"segments": ["", "users", "{id}"], "permissions": ["users=delete"]}]},
			"GET": {
				"2": [{"segments": ["", "users"], "permissions": ["users=read"]}],
				"3": [
					{"segments": ["", "exports", "{id}"], "permissions": ["finances=export", "people=export"]},
					{"segments": ["", "users", "{id}"], "permissions": ["users=read"]},
				],
			},
		},
	},
	"sets": {
		"admin": {"name": "Admin", "enabled": true, "superuser": true, "grants": {}},
		"archived": {
			"name": "Archived helpdesk", "enabled": false, "superuser": false,
			"grants": {
				"people=read": [_plain("people=read")],
				"users=delete": [_plain("users=delete")],
			},
		},
		"coordinator": {
			"name": "Volunteer coordinator", "enabled": true, "superuser": false,
			"grants": {
				"people=read": [_plain("people=read")],
				"permset=assign": [_plain("permset=assign")],
			},
		},
		"field-organizer": {
			"name": "Field organizer", "enabled": true, "superuser": false,
			"grants": {
				"people=edit": [_assigned("people=edit(assigned)")],
				"people=export": [_assigned("people=export(assigned)")],
				"people=read": [_assigned("people=read(assigned)")],
			},
		},
		"finance": {
			"name": "Finance reporting", "enabled": true, "superuser": false,
			"grants": {
				"finances=export": [_plain("finances=export")],
				"finances=read": [_plain("finances=read")],
			},
		},
		"onboarding": {
			"name": "Onboarding", "enabled": true, "superuser": false,
			"grants": {"permset=assign": [{
				"text": "permset=assign('staffer','finance')",
				"unconditional": false,
				"scopes": [],
				"objects": ["staffer", "finance"],
				"relations": [],
			}]},
		},
		"staffer": {
			"name": "Staffer", "enabled": true, "superuser": false,
			"grants": {
				"people=edit": [_plain("people=edit")],
				"people=export": [_plain("people=export")],
				"people=read": [_plain("people=read")],
				"settings=read": [_plain("settings=read")],
				"users=read": [_plain("users=read")],
			},
		},
		"support": {
			"name": "Support", "enabled": true, "superuser": false,
			"grants": {
				"api=read": [_plain("api=read")],
				"users=delete": [_plain("users=delete")],
				"users=read": [_plain("users=read")],
			},
		},
	},
	"instances": {
		"a": {
			"name": "Instance A",
			"sets": ["admin", "archived", "field-organizer", "finance", "onboarding", "staffer", "support"],
			"holdings": {
				"alice": [{"set": "admin", "via": "direct", "source": "owner", "enabled": true, "superuser": true, "expires_ns": _never}],
				"devon": [{"set": "archived", "via": "direct", "source": "retired", "enabled": false, "superuser": false, "expires_ns": _never}],
				"jordan": [{"set": "support", "via": "direct", "source": "helpdesk", "enabled": true, "superuser": false, "expires_ns": _never}],
				"kwame": [{"set": "support", "via": "direct", "source": "helpdesk-temp", "enabled": true, "superuser": false, "expires_ns": _expires_kwame}],
				"lena": [{"set": "field-organizer", "via": "role:field-team", "source": "field-team", "enabled": true, "superuser": false, "expires_ns": _never}],
				"maria": [{"set": "onboarding", "via": "direct", "source": "onboarding-a", "enabled": true, "superuser": false, "expires_ns": _never}],
				"priya": [
					{"set": "field-organizer", "via": "role:field-team", "source": "field-team", "enabled": true, "superuser": false, "expires_ns": _never},
					{"set": "finance", "via": "direct", "source": "finance-a", "enabled": true, "superuser": false, "expires_ns": _never},
				],
				"quinn": [{"set": "staffer", "via": "role:organizers", "source": "organizers", "enabled": true, "superuser": false, "expires_ns": _never}],
				"sam": [
					{"set": "finance", "via": "direct", "source": "finance-a", "enabled": true, "superuser": false, "expires_ns": _never},
					{"set": "staffer", "via": "role:organizers", "source": "organizers", "enabled": true, "superuser": false, "expires_ns": _never},
				],
				"tomas": [{"set": "staffer", "via": "direct", "source": "summer-staff", "enabled": true, "superuser": false, "expires_ns": _expires_tomas}],
			},
			"holders": {
				"admin": ["alice"],
				"archived": ["devon"],
				"field-organizer": ["lena", "priya"],
				"finance": ["priya", "sam"],
				"onboarding": ["maria"],
				"staffer": ["quinn", "sam", "tomas"],
				"support": ["jordan", "kwame"],
			},
			"granting": {
				"*=*": ["admin"],
				"api=read": ["support"],
				"finances=export": ["finance"],
				"finances=read": ["finance"],
				"people=edit": ["field-organizer", "staffer"],
				"people=export": ["field-organizer", "staffer"],
				"people=read": ["archived", "field-organizer", "staffer"],
				"permset=assign": ["onboarding"],
				"settings=read": ["staffer"],
				"users=delete": ["archived", "support"],
				"users=read": ["staffer", "support"],
			},
			# positions: api=read finances=export finances=read people=edit people=export
			#            people=read permset=assign settings=read users=delete users=read
			"fast": {
				"alice": _row("1111111111"),
				"devon": _row("0000000000"),
				"jordan": _row("2000000011"),
				"kwame": _row("2000000022"),
				"lena": _row("0002220000"),
				"maria": _row("0000002000"),
				"priya": _row("0212220000"),
				"sam": _row("0111110101"),
				"tomas": _row("0002220202"),
			},
		},
		"b": {
			"name": "Instance B",
			"sets": ["admin", "coordinator", "field-organizer", "onboarding", "staffer"],
			"holdings": {
				"jordan": [{"set": "coordinator", "via": "direct", "source": "coordinators", "enabled": true, "superuser": false, "expires_ns": _never}],
				"lena": [{"set": "field-organizer", "via": "role:field-team", "source": "field-team", "enabled": true, "superuser": false, "expires_ns": _never}],
				"maria": [{"set": "onboarding", "via": "direct", "source": "onboarding-b", "enabled": true, "superuser": false, "expires_ns": _never}],
				"priya": [{"set": "field-organizer", "via": "role:field-team", "source": "field-team", "enabled": true, "superuser": false, "expires_ns": _never}],
				"quinn": [{"set": "staffer", "via": "role:organizers", "source": "organizers", "enabled": true, "superuser": false, "expires_ns": _never}],
				"sam": [{"set": "staffer", "via": "role:organizers", "source": "organizers", "enabled": true, "superuser": false, "expires_ns": _never}],
			},
			"holders": {
				"coordinator": ["jordan"],
				"field-organizer": ["lena", "priya"],
				"onboarding": ["maria"],
				"staffer": ["quinn", "sam"],
			},
			"granting": {
				"*=*": ["admin"],
				"people=edit": ["field-organizer", "staffer"],
				"people=export": ["field-organizer", "staffer"],
				"people=read": ["coordinator", "field-organizer", "staffer"],
				"permset=assign": ["coordinator", "onboarding"],
				"settings=read": ["staffer"],
				"users=read": ["staffer"],
			},
			"fast": {
				"jordan": _row("0000011000"),
				"lena": _row("0002220000"),
				"maria": _row("0000002000"),
				"priya": _row("0002220000"),
				"sam": _row("0001110101"),
			},
		},
	},
	"suspended": {"quinn": true},
}

# The index of a repository without a catalog: wildcard grants stay wildcard keys, scopes have
# no relation fields, there is no fast table and any well-formed permission is known.
#
#   sets:     root (*=*), people-all (people=*, permset=assign), readers (*=read,
#             people=export(assigned)), all on instance c.
#   holdings: ana root; ben people-all and readers; cy readers; dee (suspended) people-all.
fixture_without_catalog := _with_records(_fixture_without_catalog)

_fixture_without_catalog := {
	"sets": {
		"people-all": {
			"name": "People", "enabled": true, "superuser": false,
			"grants": {
				"people=*": [_plain("people=*")],
				"permset=assign": [_plain("permset=assign")],
			},
		},
		"readers": {
			"name": "Readers", "enabled": true, "superuser": false,
			"grants": {
				"*=read": [_plain("*=read")],
				"people=export": [{"text": "people=export(assigned)", "unconditional": false, "scopes": ["assigned"], "objects": [], "relations": []}],
			},
		},
		"root": {"name": "Root", "enabled": true, "superuser": true, "grants": {}},
	},
	"instances": {"c": {
		"name": "Instance C",
		"sets": ["people-all", "readers", "root"],
		"holdings": {
			"ana": [{"set": "root", "via": "direct", "source": "root", "enabled": true, "superuser": true, "expires_ns": _never}],
			"ben": [
				{"set": "people-all", "via": "direct", "source": "people", "enabled": true, "superuser": false, "expires_ns": _never},
				{"set": "readers", "via": "direct", "source": "readers", "enabled": true, "superuser": false, "expires_ns": _never},
			],
			"cy": [{"set": "readers", "via": "direct", "source": "readers", "enabled": true, "superuser": false, "expires_ns": _never}],
			"dee": [{"set": "people-all", "via": "direct", "source": "people", "enabled": true, "superuser": false, "expires_ns": _never}],
		},
		"holders": {
			"people-all": ["ben", "dee"],
			"readers": ["ben", "cy"],
			"root": ["ana"],
		},
		"granting": {
			"*=*": ["root"],
			"*=read": ["readers"],
			"people=*": ["people-all"],
			"people=export": ["readers"],
			"permset=assign": ["people-all"],
		},
	}},
	"suspended": {"dee": true},
}

_plain(text) := {"text": text, "unconditional": true, "scopes": [], "objects": [], "relations": []}

_assigned(text) := {
	"text": text,
	"unconditional": false,
	"scopes": ["assigned"],
	"objects": [],
	"relations": ["path_assignee", "point_person", "step_assignee"],
}

# tomas's staffer assignment ends 2026-01-01T00:00:00Z, kwame's support 2027-01-01T00:00:00Z.
_expires_tomas := 1767225600000000000

_expires_kwame := 1798761600000000000

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
	d := _decide_forged("1A", {"user": "sam", "instance": "a", "permission": "people=read", "method": "DELETE", "path": "/users/42"})
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
		allowed := permsets.allow with input as inp with data.permsets_index as fixture with permsets.decision as {"allow": true}
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
	_decision({"user": "zoe", "instance": "a", "permission": "people=delete"}).reason == "the catalog has no permission people=delete"
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

# Expiry, decided at input.time.

test_success_unexpired_assignment if {
	inp := {"user": "tomas", "instance": "a", "permission": "people=read", "time": _before_both}
	_decision(inp) == {
		"allow": true,
		"permission": "people=read",
		"grants": [{"set": "staffer", "via": "direct"}],
		"missing": [],
		"reason": "tomas may people=read on a through set staffer (direct)",
	}
	_allowed(inp)
}

test_fail_expired_assignment if {
	inp := {"user": "tomas", "instance": "a", "permission": "people=read", "time": _between}
	_decision(inp) == {
		"allow": false,
		"permission": "people=read",
		"grants": [],
		"missing": [],
		"reason": "tomas holds sets on a, but none is enabled and unexpired",
	}
	_denied(inp)
}

# An assignment grants while the time is before expires: at exactly expires it has expired
# (and one nanosecond before it still grants), whatever the offset the time is written with.
test_fail_expired_at_the_instant_it_ends if {
	inp := {"user": "tomas", "instance": "a", "permission": "people=read", "time": "2026-01-01T00:00:00Z"}
	_decision(inp) == {
		"allow": false,
		"permission": "people=read",
		"grants": [],
		"missing": [],
		"reason": "tomas holds sets on a, but none is enabled and unexpired",
	}
	_denied(inp)
	_denied({"user": "tomas", "instance": "a", "permission": "people=read", "time": "2025-12-31T23:00:00-01:00"})
	_denied({"user": "kwame", "instance": "a", "permission": "users=delete", "time": "2027-01-01T00:00:00Z"})
	_denied({"user": "kwame", "instance": "a", "method": "DELETE", "path": "/users/42", "time": "2027-01-01T00:00:00Z"})
}

test_success_unexpired_one_nanosecond_before_the_instant if {
	_allowed({"user": "tomas", "instance": "a", "permission": "people=read", "time": "2025-12-31T23:59:59.999999999Z"})
	_allowed({"user": "tomas", "instance": "a", "permission": "people=read", "time": "2025-12-31T23:59:59.999Z"})
	_allowed({"user": "kwame", "instance": "a", "permission": "users=delete", "time": "2026-12-31T23:59:59.999999999Z"})
	_allowed({"user": "kwame", "instance": "a", "method": "DELETE", "path": "/users/42", "time": "2026-12-31T23:59:59.999999999Z"})
}

test_success_expiring_in_the_future if {
	inp := {"user": "kwame", "instance": "a", "permission": "users=delete", "time": _between}
	_decision(inp) == {
		"allow": true,
		"permission": "users=delete",
		"grants": [{"set": "support", "via": "direct"}],
		"missing": [],
		"reason": "kwame may users=delete on a through set support (direct)",
	}
	_allowed(inp)
}

test_fail_expiring_once_expired if {
	inp := {"user": "kwame", "instance": "a", "permission": "users=delete", "time": _after_both}
	_decision(inp) == {
		"allow": false,
		"permission": "users=delete",
		"grants": [],
		"missing": [],
		"reason": "kwame holds sets on a, but none is enabled and unexpired",
	}
	_denied(inp)
}

test_success_time_with_offset if {
	_allowed({"user": "kwame", "instance": "a", "permission": "users=read", "time": "2026-12-31T22:59:59-01:00"})
	_denied({"user": "kwame", "instance": "a", "permission": "users=read", "time": "2027-01-01T00:30:00-01:00"})
}

# Suspended, unknown permission, unknown instance.

test_fail_suspended if {
	inp := {"user": "quinn", "instance": "a", "permission": "people=read"}
	_decision(inp) == {
		"allow": false,
		"permission": "people=read",
		"grants": [{"set": "staffer", "via": "role:organizers"}],
		"missing": [],
		"reason": "quinn is suspended and is allowed nothing",
	}
	_denied(inp)
}

test_fail_unknown_permission_with_catalog if {
	inp := {"user": "sam", "instance": "a", "permission": "people=delete"}
	_decision(inp) == {
		"allow": false,
		"permission": "people=delete",
		"grants": [],
		"missing": [],
		"reason": "the catalog has no permission people=delete",
	}
	_denied(inp)
}

test_fail_unknown_permission_for_superuser if {
	inp := {"user": "alice", "instance": "a", "permission": "people=delete"}
	_decision(inp) == {
		"allow": false,
		"permission": "people=delete",
		"grants": [],
		"missing": [],
		"reason": "the catalog has no permission people=delete",
	}
	_denied(inp)
}

test_fail_wildcard_permission_with_catalog if {
	_decision({"user": "alice", "instance": "a", "permission": "people=*"}).reason == "the catalog has no permission people=*"
	_denied({"user": "alice", "instance": "a", "permission": "people=*"})
}

test_fail_unknown_instance if {
	inp := {"user": "sam", "instance": "z", "permission": "people=read"}
	_decision(inp) == {
		"allow": false,
		"permission": "people=read",
		"grants": [],
		"missing": [],
		"reason": `unknown instance "z"`,
	}
	_denied(inp)
}

# Scoped grants: people=read(assigned) covers a resource whose point_person, path_assignee or
# step_assignee holds the user (one id or a list).

_lena_read(resource) := {"user": "lena", "instance": "a", "permission": "people=read", "resource": resource}

_lena_allowed := {
	"allow": true,
	"permission": "people=read",
	"grants": [{"set": "field-organizer", "via": "role:field-team"}],
	"missing": [],
	"reason": "lena may people=read on a through set field-organizer (role:field-team)",
}

_lena_not_matching := {
	"allow": false,
	"permission": "people=read",
	"grants": [],
	"missing": [],
	"reason": "lena holds people=read on a only for some resources, and none given matches",
}

test_success_scoped_point_person if {
	inp := _lena_read({"id": "p1", "point_person": "lena"})
	_decision(inp) == _lena_allowed
	_allowed(inp)
}

test_success_scoped_path_assignee_list if {
	inp := _lena_read({"id": "p1", "point_person": "sam", "path_assignee": ["sam", "lena"]})
	_decision(inp) == _lena_allowed
	_allowed(inp)
}

test_success_scoped_step_assignee if {
	inp := _lena_read({"id": "p1", "step_assignee": "lena"})
	_decision(inp) == _lena_allowed
	_allowed(inp)
}

test_success_scoped_implied_keeps_scope if {
	inp := {
		"user": "lena", "instance": "b", "permission": "people=edit",
		"resource": {"id": "p1", "path_assignee": ["lena"]},
	}
	_decision(inp) == {
		"allow": true,
		"permission": "people=edit",
		"grants": [{"set": "field-organizer", "via": "role:field-team"}],
		"missing": [],
		"reason": "lena may people=edit on b through set field-organizer (role:field-team)",
	}
	_allowed(inp)
}

test_fail_scoped_other_relations if {
	inp := _lena_read({"id": "p1", "point_person": "sam", "path_assignee": ["sam", "priya"], "owner": "lena", "step_assignee": "Lena"})
	_decision(inp) == _lena_not_matching
	_denied(inp)
}

test_fail_scoped_relation_in_nested_value if {
	inp := _lena_read({"id": "p1", "point_person": {"id": "lena"}, "path_assignee": [["lena"]]})
	_decision(inp) == _lena_not_matching
	_denied(inp)
}

test_fail_scoped_without_resource if {
	inp := {"user": "lena", "instance": "a", "permission": "people=read"}
	_decision(inp) == _lena_not_matching
	_denied(inp)
}

test_fail_scoped_empty_resource if {
	inp := _lena_read({})
	_decision(inp) == _lena_not_matching
	_denied(inp)
}

# Object arguments: permset=assign('staffer','finance') covers resource.id staffer or finance.

test_success_object_argument if {
	inp := {"user": "maria", "instance": "a", "permission": "permset=assign", "resource": {"id": "staffer"}}
	_decision(inp) == {
		"allow": true,
		"permission": "permset=assign",
		"grants": [{"set": "onboarding", "via": "direct"}],
		"missing": [],
		"reason": "maria may permset=assign on a through set onboarding (direct)",
	}
	_allowed(inp)
}

test_fail_object_argument_other_object if {
	inp := {"user": "maria", "instance": "a", "permission": "permset=assign", "resource": {"id": "admin"}}
	_decision(inp) == {
		"allow": false,
		"permission": "permset=assign",
		"grants": [],
		"missing": [],
		"reason": "maria holds permset=assign on a only for some resources, and none given matches",
	}
	_denied(inp)
}

test_fail_object_argument_without_resource if {
	inp := {"user": "maria", "instance": "a", "permission": "permset=assign"}
	_decision(inp).reason == "maria holds permset=assign on a only for some resources, and none given matches"
	_denied(inp)
}

test_success_unscoped_grant_covers_any_resource if {
	inp := {"user": "jordan", "instance": "b", "permission": "permset=assign", "resource": {"id": "admin"}}
	_decision(inp) == {
		"allow": true,
		"permission": "permset=assign",
		"grants": [{"set": "coordinator", "via": "direct"}],
		"missing": [],
		"reason": "jordan may permset=assign on b through set coordinator (direct)",
	}
	_allowed(inp)
}

# Superusers (*=*) hold every permission the catalog knows, with any scope and argument.

test_success_superuser_every_known_permission if {
	denied := {p |
		some p, _ in fixture.catalog.known
		not _allowed({"user": "alice", "instance": "a", "permission": p})
	}
	denied == set()
}

test_success_superuser if {
	inp := {"user": "alice", "instance": "a", "permission": "api=read", "resource": {"id": "key-1"}}
	_decision(inp) == {
		"allow": true,
		"permission": "api=read",
		"grants": [{"set": "admin", "via": "direct"}],
		"missing": [],
		"reason": "alice may api=read on a through set admin (direct)",
	}
	_allowed(inp)
}

test_success_superuser_scoped_and_object if {
	_allowed({"user": "alice", "instance": "a", "permission": "people=read", "resource": {"id": "p1", "point_person": "sam"}})
	_allowed({"user": "alice", "instance": "a", "permission": "permset=assign", "resource": {"id": "admin"}})
}

test_fail_superuser_on_another_instance if {
	_denied({"user": "alice", "instance": "b", "permission": "people=read"})
}

# Routes: {method, path} mapped through the catalog's endpoints.

test_success_route_with_param if {
	inp := {"user": "jordan", "instance": "a", "method": "DELETE", "path": "/users/42"}
	_decision(inp) == {
		"allow": true,
		"permission": "users=delete",
		"grants": [{"set": "support", "via": "direct"}],
		"missing": [],
		"reason": "DELETE /users/42 needs users=delete: jordan may users=delete on a through set support (direct)",
	}
	_allowed(inp)
}

test_fail_route_with_param_without_permission if {
	inp := {"user": "sam", "instance": "a", "method": "DELETE", "path": "/users/42"}
	_decision(inp) == {
		"allow": false,
		"permission": "users=delete",
		"grants": [],
		"missing": [],
		"reason": "DELETE /users/42 needs users=delete: sam holds no set on a that grants users=delete",
	}
	_denied(inp)
}

test_success_route_get_one_and_list if {
	inp := {"user": "sam", "instance": "a", "method": "GET", "path": "/users/42"}
	_decision(inp) == {
		"allow": true,
		"permission": "users=read",
		"grants": [{"set": "staffer", "via": "role:organizers"}],
		"missing": [],
		"reason": "GET /users/42 needs users=read: sam may users=read on a through set staffer (role:organizers)",
	}
	_allowed(inp)
	_allowed({"user": "sam", "instance": "a", "method": "GET", "path": "/users"})
	_allowed({"user": "sam", "instance": "a", "method": "get", "path": "/users/42"})
}

test_fail_route_get_without_permission if {
	_denied({"user": "lena", "instance": "a", "method": "GET", "path": "/users"})
	_denied({"user": "lena", "instance": "a", "method": "GET", "path": "/users/42"})
}

# A {param} matches exactly one non-empty segment.
test_fail_route_param_matches_one_segment if {
	inp := {"user": "jordan", "instance": "a", "method": "DELETE", "path": "/users/42/sessions"}
	_decision(inp) == {
		"allow": false,
		"permission": "",
		"grants": [],
		"missing": [],
		"reason": "DELETE /users/42/sessions is mapped to no permission, so only holders of *=* may call it",
	}
	_denied(inp)
	_denied({"user": "jordan", "instance": "a", "method": "DELETE", "path": "/users"})
	_denied({"user": "jordan", "instance": "a", "method": "DELETE", "path": "/accounts/42"})
}

# A route's path must be normalised: a {param} would otherwise match a dot segment, and
# DELETE /users/.. (users=delete, checked as /users/{id}) would reach another resource.
test_fail_route_dot_segment if {
	inp := {"user": "jordan", "instance": "a", "method": "DELETE", "path": "/users/.."}
	_decision(inp) == _invalid("", "path /users/.. is not normalised: dot or empty segment")
	_denied(inp)
	every path in ["/users/.", "/users/42/..", "/users/../users/42", "/./users/42", "/users/./42", "/.."] {
		_decision({"user": "jordan", "instance": "a", "method": "DELETE", "path": path}).reason == sprintf("path %s is not normalised: dot or empty segment", [path])
		_denied({"user": "jordan", "instance": "a", "method": "DELETE", "path": path})
	}
}

# Percent-encoded dot segments are dot segments too, in either case.
test_fail_route_encoded_dot_segment if {
	every path in ["/users/%2e%2e", "/users/%2E%2e", "/users/.%2e", "/users/%2E.", "/users/%2e", "/users/%2E", "/users/%2e%2e/42"] {
		_decision({"user": "jordan", "instance": "a", "method": "DELETE", "path": path}).reason == sprintf("path %s is not normalised: dot or empty segment", [path])
		_denied({"user": "jordan", "instance": "a", "method": "DELETE", "path": path})
	}
}

# Empty segments, a trailing slash included, are not normalised either.
test_fail_route_empty_segment if {
	every path in ["/users/", "/users//", "//users/42", "/users//42", "/users/42/", "//"] {
		_decision({"user": "sam", "instance": "a", "method": "GET", "path": path}).reason == sprintf("path %s is not normalised: dot or empty segment", [path])
		_denied({"user": "sam", "instance": "a", "method": "GET", "path": path})
	}
}

# Not even *=* may call a path that is not normalised, and a permission given beside the route
# is kept in the answer but does not help.
test_fail_route_dot_segment_superuser if {
	_decision({"user": "alice", "instance": "a", "method": "POST", "path": "/reports/.."}) == _invalid("", "path /reports/.. is not normalised: dot or empty segment")
	_denied({"user": "alice", "instance": "a", "method": "DELETE", "path": "/users/.."})
	inp := {"user": "jordan", "instance": "a", "permission": "users=delete", "method": "DELETE", "path": "/users/.."}
	_decision(inp) == _invalid("users=delete", "path /users/.. is not normalised: dot or empty segment")
	_denied(inp)
}

# Dots inside a segment, three dots, and the root are normalised.
test_success_route_dots_in_a_segment if {
	every path in ["/users/...", "/users/.42", "/users/42..", "/users/%2e42", "/users/..%2e"] {
		_decision({"user": "jordan", "instance": "a", "method": "DELETE", "path": path}).allow == true
		_allowed({"user": "jordan", "instance": "a", "method": "DELETE", "path": path})
	}
	_allowed({"user": "alice", "instance": "a", "method": "PATCH", "path": "/"})
}

test_fail_route_unmapped if {
	inp := {"user": "sam", "instance": "a", "method": "POST", "path": "/reports"}
	_decision(inp) == {
		"allow": false,
		"permission": "",
		"grants": [],
		"missing": [],
		"reason": "POST /reports is mapped to no permission, so only holders of *=* may call it",
	}
	_denied(inp)
}

test_success_route_unmapped_superuser if {
	inp := {"user": "alice", "instance": "a", "method": "POST", "path": "/reports"}
	_decision(inp) == {
		"allow": true,
		"permission": "",
		"grants": [{"set": "admin", "via": "direct"}],
		"missing": [],
		"reason": "POST /reports is mapped to no permission; alice holds *=* on a",
	}
	_allowed(inp)
	_allowed({"user": "alice", "instance": "a", "method": "DELETE", "path": "/users/42"})
	_allowed({"user": "alice", "instance": "a", "method": "PATCH", "path": "/"})
}

test_fail_route_unmapped_superuser_on_another_instance if {
	_denied({"user": "alice", "instance": "b", "method": "POST", "path": "/reports"})
}

# GET /exports/{id} is mapped to finances=export and people=export: any of them allows.
test_fail_route_several_permissions_none_held if {
	inp := {"user": "priya", "instance": "a", "method": "GET", "path": "/exports/7"}
	_decision(inp) == {
		"allow": false,
		"permission": "finances=export",
		"grants": [{"set": "finance", "via": "direct"}],
		"missing": ["people=export"],
		"reason": "GET /exports/7 needs finances=export: finances=export on a requires people=export, which priya does not hold",
	}
	_denied(inp)
}

test_success_route_several_permissions_one_held if {
	inp := {"user": "priya", "instance": "a", "method": "GET", "path": "/exports/7", "resource": {"id": "7", "point_person": "priya"}}
	_decision(inp) == {
		"allow": true,
		"permission": "people=export",
		"grants": [{"set": "field-organizer", "via": "role:field-team"}],
		"missing": [],
		"reason": "GET /exports/7 needs people=export: priya may people=export on a through set field-organizer (role:field-team)",
	}
	_allowed(inp)
}

test_fail_route_suspended if {
	inp := {"user": "quinn", "instance": "a", "method": "GET", "path": "/users"}
	_decision(inp).reason == "GET /users needs users=read: quinn is suspended and is allowed nothing"
	_denied(inp)
}

# Malformed inputs: allow is false and the reason lists every problem.

_invalid(permission, reason) := {"allow": false, "permission": permission, "grants": [], "missing": [], "reason": reason}

test_fail_input_missing_user if {
	inp := {"instance": "a", "permission": "people=read"}
	_decision(inp) == _invalid("people=read", "input.user must be a string")
	_denied(inp)
}

test_fail_input_user_not_a_string if {
	inp := {"user": ["sam"], "instance": "a", "permission": "people=read"}
	_decision(inp) == _invalid("people=read", "input.user must be a string")
	_denied(inp)
}

test_fail_input_missing_instance if {
	inp := {"user": "sam", "permission": "people=read"}
	_decision(inp) == _invalid("people=read", "input.instance must be a string")
	_denied(inp)
}

test_fail_input_permission_not_a_string if {
	inp := {"user": "sam", "instance": "a", "permission": 7}
	_decision(inp) == _invalid(7, "input.permission must be a string like feature=action")
	_denied(inp)
}

test_fail_input_permission_malformed if {
	every p in ["people", "people=read(assigned)", "People=Read", "=read", "people=read=all", ""] {
		_decision({"user": "sam", "instance": "a", "permission": p}).reason == "input.permission must be a string like feature=action"
		_denied({"user": "sam", "instance": "a", "permission": p})
	}
}

test_fail_input_no_permission_or_route if {
	inp := {"user": "sam", "instance": "a"}
	_decision(inp) == _invalid("", "input needs a permission (feature=action) or a method and a path")
	_denied(inp)
}

test_fail_input_bad_time if {
	inp := {"user": "sam", "instance": "a", "permission": "people=read", "time": "yesterday"}
	_decision(inp) == _invalid("people=read", "input.time must be an RFC 3339 date and time")
	_denied(inp)
}

test_fail_input_time_not_a_string if {
	inp := {"user": "sam", "instance": "a", "permission": "people=read", "time": 1767225600}
	_decision(inp) == _invalid("people=read", "input.time must be an RFC 3339 date and time")
	_denied(inp)
}

test_fail_input_resource_not_an_object if {
	inp := {"user": "sam", "instance": "a", "permission": "people=read", "resource": "p1"}
	_decision(inp) == _invalid("people=read", "input.resource must be an object")
	_denied(inp)
}

test_fail_input_method_without_path if {
	inp := {"user": "sam", "instance": "a", "method": "GET"}
	_decision(inp) == _invalid("", "input.method and input.path must be strings")
	_denied(inp)
}

test_fail_input_path_not_absolute if {
	inp := {"user": "sam", "instance": "a", "method": "GET", "path": "users"}
	_decision(inp) == _invalid("", "input.method and input.path must be strings")
	_denied(inp)
}

test_fail_input_method_not_a_string if {
	inp := {"user": "sam", "instance": "a", "method": 1, "path": "/users"}
	_decision(inp) == _invalid("", "input.method and input.path must be strings")
	_denied(inp)
}

test_fail_input_every_problem if {
	inp := {"user": 1, "instance": null, "resource": [], "time": "soon"}
	_decision(inp) == _invalid("", concat("; ", [
		"input needs a permission (feature=action) or a method and a path",
		"input.instance must be a string",
		"input.resource must be an object",
		"input.time must be an RFC 3339 date and time",
		"input.user must be a string",
	]))
	_denied(inp)
}

test_fail_input_empty if {
	_decision({}) == _invalid("", concat("; ", [
		"input needs a permission (feature=action) or a method and a path",
		"input.instance must be a string",
		"input.user must be a string",
	]))
	_denied({})
}

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
	_allow_forged("1111111111", {"user": "zoe", "instance": "a", "permission": "people=read", "time": _between}) == false
}

test_fail_fast_table_skipped_with_method if {
	_allow_forged("1111111111", {"user": "zoe", "instance": "a", "permission": "users=read", "method": "GET", "path": "/users"}) == false
}

test_fail_fast_table_skipped_with_bad_resource if {
	_allow_forged("1111111111", {"user": "zoe", "instance": "a", "permission": "people=read", "resource": "p1"}) == false
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
	holders := {[i, u] | some i, instance in fixture.instances; some u, _ in instance.holdings; not fixture.suspended[u]}
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
	inp := {"user": "cy", "instance": "c", "permission": "people=export", "resource": {"id": "p1", "point_person": "cy"}}
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
		"reason": "input must be an object; input needs a permission (feature=action) or a method and a path; input.instance must be a string; input.user must be a string",
	} with input as ["alice", "a", "people=read"]
		with data.permsets_index as fixture
	not permsets.allow with input as "alice" with data.permsets_index as fixture
}
