# Tests of decision.rego: expiry, suspension, unknown permissions and instances, scoped and
# object grants, superusers.
# (The fixtures, and the package's METADATA, are in decision_fixture_test.rego.)
package permsets_test

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
	_allowed({
		"user": "kwame", "instance": "a", "method": "DELETE", "path": "/users/42",
		"time": "2026-12-31T23:59:59.999999999Z",
	})
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
	d := _decision({"user": "alice", "instance": "a", "permission": "people=*"})
	d.reason == "the catalog has no permission people=*"
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
	inp := _lena_read({
		"id": "p1",
		"point_person": "sam",
		"path_assignee": ["sam", "priya"],
		"owner": "lena",
		"step_assignee": "Lena",
	})
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
	_allowed({
		"user": "alice",
		"instance": "a",
		"permission": "people=read",
		"resource": {"id": "p1", "point_person": "sam"},
	})
	_allowed({"user": "alice", "instance": "a", "permission": "permset=assign", "resource": {"id": "admin"}})
}

test_fail_superuser_on_another_instance if {
	_denied({"user": "alice", "instance": "b", "permission": "people=read"})
}
