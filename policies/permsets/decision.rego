# METADATA
# title: permsets decisions
# description: |
#   Who may do what on which instance. Answers the decision paths of the API:
#   allow, decision, effective, manageable_sets and who_can. Reads the compiled index
#   at data.permsets_index (built by the engine from the config repository, shape in
#   docs/engine.md) and the input.
# authors:
#   - permsets
# scope: package
package permsets

# The compiled index: instances (holdings, holders, fast table), sets (expanded grants),
# the catalog (known permissions, transitive requirements, routes) and suspended users.
import data.permsets_index as index

# METADATA
# title: allow
# description: |
#   true when input.user may input.permission (or input.method on input.path) on
#   input.instance; false otherwise, never undefined. The precomputed fast table answers
#   when it is conclusive ("1": held unconditionally, with no expiry, scope or missing
#   requirement; "0", "n", "d": held by no grant at all, so whatever the time and the
#   resource); a user who holds nothing on the instance is denied at once; every other case
#   ("2", a time, a route) is decided by the decision rule.
# entrypoint: true
default allow := false

allow := v if {
	not input.time
	not input.method
	is_object(object.get(input, "resource", {}))
	c := substring(index.instances[input.instance].fast[input.user], index.catalog.positions[input.permission], 1)
	c != "2"
	v := c == "1"
} else := false if {
	# Whatever the input, nothing is allowed to a user who holds nothing on the instance (or
	# on an instance that does not exist).
	not index.instances[input.instance].holdings[input.user]
} else := decision.allow

# The input's cell in the fast table (docs/engine.md), two characters. The first answers allow:
# "1" true; "0", "n" and "d" false; "2" the rule decides. The second answers decision after "1":
# a letter of _single_alphabet names the one holding that grants it, one of _mask_alphabet the
# mask of the holdings that do (bit i for the user's i-th holding); "~" leaves the grants to the
# rule. "n~": the user holds sets, none of which grants it; "d~": none of them is enabled.
# Undefined with a time or a method, with an invalid resource, for an unknown permission and
# for users without a row.
_cell := substring(index.instances[input.instance].fast[input.user], index.catalog.positions[input.permission], 2) if {
	not input.time
	not input.method
	is_object(object.get(input, "resource", {}))
}

# The grants an allowing cell names: its one holding (a letter of _single_alphabet) or the
# holdings of its mask; undefined for any other cell ("1~" leaves the grants to the rule).
# decision and who_can both read cells through it.
_fast_grants(user, cell) := [{"set": h.set, "via": h.via}] if {
	startswith(cell, "1")
	i := indexof(_single_alphabet, substring(cell, 1, 1))
	i >= 0
	inst := index.instances[input.instance]
	h := inst.records[inst.holdings[user][i]]
} else := grants if {
	startswith(cell, "1")
	mask := indexof(_mask_alphabet, substring(cell, 1, 1))
	mask > 0
	inst := index.instances[input.instance]
	grants := [{"set": h.set, "via": h.via} |
		some i, id in inst.holdings[user]
		bits.and(mask, bits.lsh(1, i)) != 0
		h := inst.records[id]
	]
}

_single_alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

_mask_alphabet := "0abcdefghijklmnopqrstuvwxyz12345"

_resource_ok if is_object(object.get(_input_object, "resource", {}))

# METADATA
# title: decision
# description: |
#   The decision with its explanation: {allow, permission, grants: [{set, via}],
#   missing: [permissions], reason}. grants lists the held sets that cover the request
#   (via is "direct" or "role:ID"); missing lists required permissions the user lacks.
#   The fast table answers where the outcome depends on neither the time nor the
#   resource; every other case, and the definition, is _decision_by_rule.
# entrypoint: true
decision := d if {
	grants := _fast_grants(input.user, _cell)
	d := {
		"allow": true,
		"permission": input.permission,
		"grants": grants,
		"missing": [],
		"reason": _granted_reason(grants),
	}
} else := d if {
	_cell == "n~"
	d := _nothing_granted(sprintf("%s holds no set on %s that grants %s", [input.user, input.instance, input.permission]))
} else := d if {
	_cell == "d~"
	d := _nothing_granted(sprintf("%s holds sets on %s, but none is enabled and unexpired", [input.user, input.instance]))
} else := d if {
	# A user who holds nothing on the instance (and is not suspended: they have no row either).
	not input.time
	not input.method
	is_object(object.get(input, "resource", {}))
	is_string(input.user)
	inst := index.instances[input.instance]
	not inst.holdings[input.user]
	not index.suspended[input.user]
	index.catalog.positions[input.permission]
	d := _nothing_granted(sprintf("%s holds no set on %s", [input.user, input.instance]))
} else := _decision_by_rule

# The reason of a decision the fast table allows: the one set, or every set, that grants it.
_granted_reason(grants) := sprintf(
	"%s may %s on %s through set %s (%s)",
	[input.user, input.permission, input.instance, grants[0].set, grants[0].via],
) if {
	count(grants) == 1
} else := sprintf("%s may %s on %s through %s", [
	input.user, input.permission, input.instance,
	concat(", ", [sprintf("set %s (%s)", [g.set, g.via]) | some g in grants]),
])

_nothing_granted(reason) := {
	"allow": false,
	"permission": input.permission,
	"grants": [],
	"missing": [],
	"reason": reason,
}

# The definition of a decision (the decision table is checked against it).
_decision_by_rule := _invalid_decision if {
	not _well_formed
} else := _route_decision if {
	is_string(input.method)
} else := _permission_decision

# The common case, checked in one body; _input_errors explains the others.
_well_formed if {
	is_string(input.user)
	is_string(input.instance)
	_target_ok
	_resource_ok
	_time_ok
}

_target_ok if {
	not input.method
	regex.match(`^[a-z*][a-z0-9_*-]*=[a-z*][a-z0-9_*-]*$`, input.permission)
} else if {
	_route_input_ok
	_normalised_path(input.path)
}

_time_ok if not input.time

_time_ok if is_number(time.parse_rfc3339_ns(input.time))

_invalid_decision := {
	"allow": false,
	"permission": object.get(_input_object, "permission", ""),
	"grants": [],
	"missing": [],
	"reason": concat("; ", sort(_input_errors)),
}

# The input, or an empty object when it is not one.
default _input_object := {}

_input_object := input if is_object(input)

# Problems with the input itself; any of them denies.
_input_errors contains "input must be an object" if not is_object(input)

_input_errors contains "input.user must be a string" if not is_string(object.get(_input_object, "user", null))

_input_errors contains "input.instance must be a string" if not is_string(object.get(_input_object, "instance", null))

_input_errors contains "input needs a permission (feature=action) or a method and a path" if {
	not input.permission
	not input.method
}

_input_errors contains "input.permission must be a string like feature=action" if {
	input.permission
	not regex.match(`^[a-z*][a-z0-9_*-]*=[a-z*][a-z0-9_*-]*$`, input.permission)
}

_input_errors contains "input.method and input.path must be strings" if {
	input.method
	not _route_input_ok
}

_input_errors contains "input.resource must be an object" if not _resource_ok

_input_errors contains "input.time must be an RFC 3339 date and time" if {
	input.time
	not time.parse_rfc3339_ns(input.time)
}

# A route's path must be the normalised path the API serves: "/", or segments that are neither
# empty (no "//", no trailing "/") nor dot segments ("." or "..", also percent-encoded: "%2e",
# "%2E%2e", ".%2e"). Otherwise a {param} would match ".." and the request would reach another
# route than the one checked: any other path is denied, whoever asks.
_input_errors contains sprintf("path %s is not normalised: dot or empty segment", [input.path]) if {
	_route_input_ok
	not _normalised_path(input.path)
}

_route_input_ok if {
	is_string(input.method)
	is_string(input.path)
	startswith(input.path, "/")
}

_normalised_path("/")

_normalised_path(path) if {
	regex.match(`^(/[^/]+)+$`, path)
	not regex.match(`(?i)/(\.|%2e){1,2}(/|$)`, path)
}

# The time decisions are made at: input.time when given, else now.
_now := time.parse_rfc3339_ns(input.time) if {
	input.time
} else := time.now_ns()

_resource := object.get(_input_object, "resource", {})

_permission_decision := {
	"allow": res.allow,
	"permission": input.permission,
	"grants": res.grants,
	"missing": res.missing,
	"reason": _reason(input.user, input.instance, input.permission, res),
} if {
	res := _evaluate(input.user, input.instance, input.permission, _resource, _now)
}

# A route: allowed when any permission mapped to it is allowed, or for *=* holders.
_route_decision := d if {
	perms := _route_permissions(input.method, input.path)
	count(perms) > 0
	results := [[p, _evaluate(input.user, input.instance, p, _resource, _now)] | some p in sort(perms)]
	allowed := [r | some r in results; r[1].allow]
	chosen := _first_or(allowed, results[0])
	d := {
		"allow": chosen[1].allow,
		"permission": chosen[0],
		"grants": chosen[1].grants,
		"missing": chosen[1].missing,
		"reason": _route_reason(chosen[0], chosen[1]),
	}
} else := d if {
	grants := _superuser_grants(input.user, input.instance, _now)
	allowed := count(grants) > 0
	d := {
		"allow": allowed,
		"permission": "",
		"grants": grants,
		"missing": [],
		"reason": _unmapped_reason(allowed),
	}
}

_first_or(xs, default_value) := xs[0] if {
	count(xs) > 0
} else := default_value

_route_reason(perm, res) := sprintf(
	"%s %s needs %s: %s",
	[input.method, input.path, perm, _reason(input.user, input.instance, perm, res)],
)

_unmapped_reason(true) := sprintf(
	"%s %s is mapped to no permission; %s holds *=* on %s",
	[input.method, input.path, input.user, input.instance],
)

_unmapped_reason(false) := sprintf(
	"%s %s is mapped to no permission, so only holders of *=* may call it",
	[input.method, input.path],
)

# The permissions whose catalog endpoints match the route. A {param} segment matches
# exactly one path segment. (The path is normalised: _well_formed holds.)
_route_permissions(method, path) := {p |
	segments := split(trim_suffix(path, "/"), "/")
	some route in index.catalog.routes[upper(method)][format_int(count(segments), 10)]
	_segments_match(route.segments, segments)
	some p in route.permissions
}

_segments_match(template, segments) if {
	every i, t in template {
		_segment_matches(t, segments[i])
	}
}

_segment_matches(t, s) if t == s

_segment_matches(t, s) if {
	startswith(t, "{")
	endswith(t, "}")
	s != ""
}

# _evaluate is the definition of a decision for any user: the held sets that cover the
# permission (grants), the requirements the user lacks (missing), and the outcome.
# (Large values are not passed to functions: OPA hashes function arguments. That is also why it
# is one long rule, not several small functions.)
# regal ignore:rule-length
_evaluate(user, instance, perm, resource, now) := {
	"allow": _outcome(known, suspended, count(grants), count(missing)),
	"grants": grants,
	"missing": missing,
	"suspended": suspended,
	"known": known,
	"conditional": count(conditional) > 0,
} if {
	# (Documents read once into a variable are then indexed in memory, not in the store.)
	inst := object.get(index.instances, instance, {"holdings": {}, "records": {}, "covering": {}})
	sets := index.sets
	ids := object.get(inst.holdings, user, [])
	known := _known(perm)
	suspended := object.get(index.suspended, user, false)
	keys := _keys(perm)

	# The user's active holdings whose set grants the permission in some form, with how: the
	# instance lists, per permission, the holding records that can cover it ("s": the set is
	# *=*, "u": a grant without arguments, "c": only grants for some resources).
	covering := [object.get(inst.covering, key, {}) | some key in _covering_keys(keys)]
	candidates := [[h, how] |
		some id in ids
		some records in covering
		how := records[id]
		h := inst.records[id]
		h.enabled
		h.expires_ns > now
	]

	# *=* covers every permission the catalog knows; a grant without arguments covers every
	# resource; a grant with arguments covers the resources it names.
	superuser := {{"set": h.set, "via": h.via} | known; some [h, "s"] in candidates}
	granted := {{"set": h.set, "via": h.via} | some [h, "u"] in candidates}
	scoped := {{"set": h.set, "via": h.via} |
		some [h, "c"] in candidates
		some key in keys
		some grant in sets[h.set].grants[key]
		_grant_covers(grant, user, resource)
	}
	grants := sort(((superuser | granted) | scoped))
	conditional := [h | some [h, "c"] in candidates]

	# Requirements are reported only for a permission the user is granted: they are what
	# stands between a grant and its use. One is met by an unconditional grant of it (or *=*)
	# on the instance, from any active holding.
	missing := sort([r |
		count(grants) > 0
		some r in object.get(_requirements, perm, [])
		records := object.get(inst.covering, r, {})
		count([h |
			some id in ids
			records[id] in {"s", "u"}
			h := inst.records[id]
			h.enabled
			h.expires_ns > now
		]) == 0
	])
}

# With a catalog, *=* holdings are listed under every permission it knows; without one,
# under "*=*".
_covering_keys(keys) := keys if {
	index.catalog
} else := keys | {"*=*"}

default _outcome(_, _, _, _) := false

_outcome(true, false, grants, missing) if {
	grants > 0
	missing == 0
}

_holding_grants_unconditionally(h, perm) if {
	h.superuser
	_known(perm)
} else if {
	some key in _keys(perm)
	some grant in index.sets[h.set].grants[key]
	grant.unconditional
}

# Holdings of enabled sets that have not expired at now: a holding is active while
# expires_ns > now, so from the instant of its expiry on it grants nothing. A user's holdings
# are ids of the instance's holding records; each record carries its set's enabled and
# superuser flags, and expires_ns (the largest int64 when it never expires).
_active_holdings(user, instance, now) := [h |
	records := index.instances[instance].records
	some id in index.instances[instance].holdings[user]
	h := records[id]
	h.enabled
	h.expires_ns > now
]

# Without a catalog every well-formed permission is known; with one, only its own.
_known(perm) if {
	not index.catalog
} else := object.get(index.catalog.known, perm, false)

# The grant keys that can cover feature=action: itself, and without a catalog its
# wildcards too (with a catalog, wildcards are expanded when compiling).
_keys(perm) := {perm} if {
	index.catalog
} else := {perm, concat("=", [parts[0], "*"]), concat("=", ["*", parts[1]])} if {
	parts := split(perm, "=")
}

# A grant with arguments covers only what they name: a quoted object id equal to
# resource.id, or a scope whose relation fields of the resource name the user (one name or a
# list). (Grants without arguments cover every resource; the covering index marks them "u".)
_grant_covers(grant, user, resource) if {
	resource.id in grant.objects
} else if {
	some field in grant.relations
	_related(user, resource[field])
}

_related(user, value) if _names(user, value)

_related(user, value) if {
	is_array(value)
	some name in value
	_names(user, name)
}

# A name names a user when it is their id, one of their logins, or one of their emails
# (ignoring case): the index's identities. A login or an email that is also another user's id
# (or another's login or email) is ambiguous and names nobody by it.
_names(user, name) if name == user

_names(user, name) if {
	is_string(name)
	not index.identities.ambiguous[name]
	_identity(name) == user
}

_identity(name) := user if {
	user := index.identities.logins[name]
} else := index.identities.emails[lower(name)]

_requirements := object.get(object.get(index, "catalog", {}), "requires", {})

# A requirement is met by an unconditional grant of it on the instance, from any held set.
_holds_unconditionally(active, perm) if {
	some h in active
	_holding_grants_unconditionally(h, perm)
}

_superuser_grants(user, instance, now) := sort({{"set": h.set, "via": h.via} |
	not object.get(index.suspended, user, false)
	some h in _active_holdings(user, instance, now)
	h.superuser
})

# One sentence saying why: the first case that applies.
_reason(user, instance, perm, res) := sprintf("unknown instance %q", [instance]) if {
	not index.instances[instance]
} else := sprintf("%s is suspended and is allowed nothing", [user]) if {
	res.suspended
} else := sprintf("the catalog has no permission %s", [perm]) if {
	not res.known
} else := sprintf("%s may %s on %s through %s", [user, perm, instance, _describe_grants(res.grants)]) if {
	res.allow
} else := sprintf(
	"%s on %s requires %s, which %s does not hold",
	[perm, instance, concat(", ", res.missing), user],
) if {
	count(res.missing) > 0
} else := sprintf("%s holds %s on %s only for some resources, and none given matches", [user, perm, instance]) if {
	res.conditional
} else := sprintf("%s holds no set on %s that grants %s", [user, instance, perm]) if {
	count(_active_holdings(user, instance, _now)) > 0
} else := sprintf("%s holds sets on %s, but none is enabled and unexpired", [user, instance]) if {
	count(object.get(index.instances[instance].holdings, user, [])) > 0
} else := sprintf("%s holds no set on %s", [user, instance])

_describe_grants(grants) := concat(", ", [sprintf("set %s (%s)", [g.set, g.via]) | some g in grants])
