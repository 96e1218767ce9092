package permsets_test

import data.permsets

_never := 9223372036854775807

_named_read := {
	"text": "record=read('r2','r1')", "unconditional": false,
	"scopes": [], "objects": ["r2", "r1"], "relations": [],
}

_owned_write := {
	"text": "record=write(own)", "unconditional": false,
	"scopes": ["own"], "objects": [], "relations": ["owner"],
}

_all_read := {"text": "record=read", "unconditional": true, "scopes": [], "objects": [], "relations": []}

_index := {
	"catalog": {"known": {"record=read": true, "record=write": true}, "positions": {}, "requires": {}, "routes": {}},
	"sets": {
		"named": {"name": "Named", "enabled": true, "superuser": false, "grants": {
			"record=read": [_named_read],
			"record=write": [_owned_write],
		}},
		"all": {"name": "All", "enabled": true, "superuser": false, "grants": {"record=read": [_all_read]}},
	},
	"instances": {"main": {
		"name": "Main", "sets": ["all", "named"],
		"records": {
			"h1": {"set": "all", "via": "direct", "source": "a", "enabled": true, "superuser": false, "expires_ns": _never},
			"h2": {"set": "named", "via": "direct", "source": "b", "enabled": true, "superuser": false, "expires_ns": _never},
		},
		"holdings": {"ann": ["h2"], "bea": ["h1", "h2"], "sus": ["h2"]},
		"holders": {}, "granting": {}, "covering": {},
	}},
	"suspended": {"sus": true},
}

test_success_objects_named if {
	permsets.objects == {"objects": ["r1", "r2"], "every": false, "scoped": false} with data.permsets_index as _index
		with input as {"user": "ann", "instance": "main", "permission": "record=read"}
}

test_success_objects_every if {
	permsets.objects == {"objects": ["r1", "r2"], "every": true, "scoped": false} with data.permsets_index as _index
		with input as {"user": "bea", "instance": "main", "permission": "record=read"}
}

test_success_objects_scoped if {
	permsets.objects == {"objects": [], "every": false, "scoped": true} with data.permsets_index as _index
		with input as {"user": "ann", "instance": "main", "permission": "record=write"}
}

test_fail_objects_suspended if {
	permsets.objects == {"objects": [], "every": false, "scoped": false} with data.permsets_index as _index
		with input as {"user": "sus", "instance": "main", "permission": "record=read"}
}

test_fail_objects_without_permission if {
	not permsets.objects with data.permsets_index as _index
		with input as {"user": "ann", "instance": "main"}
}
