# Tests of decision.rego: routes, and malformed inputs.
# (The fixtures, and the package's METADATA, are in decision_fixture_test.rego.)
package permsets_test

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
		d := _decision({"user": "jordan", "instance": "a", "method": "DELETE", "path": path})
		d.reason == sprintf("path %s is not normalised: dot or empty segment", [path])
		_denied({"user": "jordan", "instance": "a", "method": "DELETE", "path": path})
	}
}

# Percent-encoded dot segments are dot segments too, in either case.
test_fail_route_encoded_dot_segment if {
	every path in [
		"/users/%2e%2e",
		"/users/%2E%2e",
		"/users/.%2e",
		"/users/%2E.",
		"/users/%2e",
		"/users/%2E",
		"/users/%2e%2e/42",
	] {
		d := _decision({"user": "jordan", "instance": "a", "method": "DELETE", "path": path})
		d.reason == sprintf("path %s is not normalised: dot or empty segment", [path])
		_denied({"user": "jordan", "instance": "a", "method": "DELETE", "path": path})
	}
}

# Empty segments, a trailing slash included, are not normalised either.
test_fail_route_empty_segment if {
	every path in ["/users/", "/users//", "//users/42", "/users//42", "/users/42/", "//"] {
		d := _decision({"user": "sam", "instance": "a", "method": "GET", "path": path})
		d.reason == sprintf("path %s is not normalised: dot or empty segment", [path])
		_denied({"user": "sam", "instance": "a", "method": "GET", "path": path})
	}
}

# Not even *=* may call a path that is not normalised, and a permission given beside the route
# is kept in the answer but does not help.
test_fail_route_dot_segment_superuser if {
	_decision({"user": "alice", "instance": "a", "method": "POST", "path": "/reports/.."}) == _invalid(
		"",
		"path /reports/.. is not normalised: dot or empty segment",
	)
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
		"reason": concat(" ", [
			"GET /exports/7 needs finances=export: finances=export on a requires people=export, which priya does",
			"not hold",
		]),
	}
	_denied(inp)
}

test_success_route_several_permissions_one_held if {
	inp := {
		"user": "priya",
		"instance": "a",
		"method": "GET",
		"path": "/exports/7",
		"resource": {"id": "7", "point_person": "priya"},
	}
	_decision(inp) == {
		"allow": true,
		"permission": "people=export",
		"grants": [{"set": "field-organizer", "via": "role:field-team"}],
		"missing": [],
		"reason": concat(" ", [
			"GET /exports/7 needs people=export: priya may people=export on a through set field-organizer",
			"(role:field-team)",
		]),
	}
	_allowed(inp)
}

test_fail_route_suspended if {
	inp := {"user": "quinn", "instance": "a", "method": "GET", "path": "/users"}
	_decision(inp).reason == "GET /users needs users=read: quinn is suspended and is allowed nothing"
	_denied(inp)
}

# Malformed inputs: allow is false and the reason lists every problem.

_invalid(permission, reason) := {
	"allow": false,
	"permission": permission,
	"grants": [],
	"missing": [],
	"reason": reason,
}

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
		d := _decision({"user": "sam", "instance": "a", "permission": p})
		d.reason == "input.permission must be a string like feature=action"
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
