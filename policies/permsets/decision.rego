# METADATA
# title: permsets decisions
# description: |
#   Who may do what on which instance. Answers the decision paths of the API:
#   allow, decision, effective, manageable_sets and who_can. Reads the compiled index
#   at data.permsets_index (built by the engine from the config repository) and the input.
# authors:
#   - permsets
# scope: package
package permsets

# The compiled index: instances (holdings, holders, fast table), sets (expanded grants),
# the catalog (known permissions, transitive requirements, routes) and suspended users.
_index := data.permsets_index

# METADATA
# title: allow
# description: |
#   true when input.user may input.permission (or input.method on input.path) on
#   input.instance; false otherwise, never undefined. The precomputed fast table answers
#   when it is conclusive ("1": held unconditionally; "0": held by no grant at all);
#   every other case is decided by the decision rule, which is the definition.
# entrypoint: true
default allow := false

allow if _fast == "1"

allow if {
	_fast == "2"
	decision.allow
}

allow if {
	not _fast
	decision.allow
}

# The user's character for the permission in the fast table: "1" held unconditionally
# (no expiry, no scope, requirements met), "2" held only under conditions (expiry, scope,
# object arguments), "0" not held at all. Undefined when the table cannot answer.
_fast := substring(_index.instances[input.instance].fast[input.user], _index.catalog.positions[input.permission], 1) if {
	not input.time
	not input.method
	_resource_ok
}

_resource_ok if not input.resource

_resource_ok if is_object(input.resource)

# METADATA
# title: decision
# description: |
#   The decision with its explanation: {allow, permission, grants: [{set, via}],
#   missing: [permissions], reason}. grants lists the held sets that cover the request
#   (via is "direct" or "role:ID"); missing lists required permissions the user lacks.
# entrypoint: true
decision := _invalid_decision if count(_input_errors) > 0

decision := _route_decision if {
	count(_input_errors) == 0
	is_string(input.method)
}

decision := _permission_decision(input.permission) if {
	count(_input_errors) == 0
	not input.method
}

_invalid_decision := {
	"allow": false,
	"permission": object.get(input, "permission", ""),
	"grants": [],
	"missing": [],
	"reason": concat("; ", sort(_input_errors)),
}

# Problems with the input itself; any of them denies.
_input_errors contains "input.user must be a string" if not is_string(object.get(input, "user", null))

_input_errors contains "input.instance must be a string" if not is_string(object.get(input, "instance", null))

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

_route_input_ok if {
	is_string(input.method)
	is_string(input.path)
	startswith(input.path, "/")
}

# The time decisions are made at: input.time when given, else now.
_now := time.parse_rfc3339_ns(input.time) if input.time

_now := time.now_ns() if not input.time

_resource := object.get(input, "resource", {})

_permission_decision(perm) := d if {
	res := _evaluate(input.user, input.instance, perm, _resource, _now)
	d := {
		"allow": res.allow,
		"permission": perm,
		"grants": res.grants,
		"missing": res.missing,
		"reason": _reason(input.user, input.instance, perm, res),
	}
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
}

_route_decision := d if {
	count(_route_permissions(input.method, input.path)) == 0
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

_first_or(xs, _) := xs[0] if count(xs) > 0

_first_or(xs, default_value) := default_value if count(xs) == 0

_route_reason(perm, res) := sprintf("%s %s needs %s: %s", [input.method, input.path, perm, _reason(input.user, input.instance, perm, res)])

_unmapped_reason(true) := sprintf("%s %s is mapped to no permission; %s holds *=* on %s", [input.method, input.path, input.user, input.instance])

_unmapped_reason(false) := sprintf("%s %s is mapped to no permission, so only holders of *=* may call it", [input.method, input.path])

# The permissions whose catalog endpoints match the route. A {param} segment matches
# exactly one path segment.
_route_permissions(method, path) := {p |
	segments := split(trim_suffix(path, "/"), "/")
	some route in _index.catalog.routes[upper(method)][format_int(count(segments), 10)]
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

# _evaluate is the definition of a decision for any user: what they hold that covers the
# permission (grants), what it requires that they lack (missing), and the outcome.
_evaluate(user, instance, perm, resource, now) := {
	"allow": allowed,
	"grants": grants,
	"missing": missing,
	"suspended": suspended,
	"known": known,
	"held": count(active),
	"conditional": conditional,
} if {
	active := _active_holdings(user, instance, now)
	known := _known(perm)
	suspended := _suspended(user)
	grants := sort({{"set": h.set, "via": h.via} |
		some h in active
		_set_covers(h.set, perm, user, resource)
	})
	missing := _missing(active, perm, grants)
	conditional := count({h | some h in active; _set_has_conditional(h.set, perm)}) > 0
	allowed := _outcome(known, suspended, grants, missing)
}

_outcome(true, false, grants, missing) if {
	count(grants) > 0
	count(missing) == 0
}

default _outcome(_, _, _, _) := false

# Requirements are reported only for a permission the user is granted: they are what stands
# between a grant and its use.
_missing(_, _, grants) := [] if count(grants) == 0

_missing(active, perm, grants) := sort([r |
	some r in object.get(_requirements, perm, [])
	not _holds_unconditionally(active, r)
]) if count(grants) > 0

_requirements := object.get(object.get(_index, "catalog", {}), "requires", {})

# Holdings of enabled sets that have not expired at now.
_active_holdings(user, instance, now) := [h |
	some h in _index.instances[instance].holdings[user]
	_index.sets[h.set].enabled
	_unexpired(h, now)
]

_unexpired(h, _) if not h.expires_ns

_unexpired(h, now) if h.expires_ns > now

_suspended(user) if _index.suspended[user]

default _suspended(_) := false

# Without a catalog every well-formed permission is known; with one, only its own.
_known(_) if not _index.catalog

_known(perm) if _index.catalog.known[perm]

default _known(_) := false

# The grant keys that can cover feature=action: itself and its wildcards (wildcards stay
# only in repositories without a catalog; with one they are expanded when compiling).
_keys(perm) := {perm, concat("=", [parts[0], "*"]), concat("=", ["*", parts[1]])} if {
	parts := split(perm, "=")
}

_set_covers(set, perm, _, _) if {
	_index.sets[set].superuser
	_known(perm)
}

_set_covers(set, perm, user, resource) if {
	some key in _keys(perm)
	some grant in _index.sets[set].grants[key]
	_grant_covers(grant, user, resource)
}

# A grant without arguments covers every resource; with arguments, only what they name:
# a quoted object id equal to resource.id, or a scope whose relation fields of the resource
# hold the user (one id or a list).
_grant_covers(grant, _, _) if {
	count(grant.objects) == 0
	count(grant.scopes) == 0
}

_grant_covers(grant, _, resource) if resource.id in grant.objects

_grant_covers(grant, user, resource) if {
	some field in grant.relations
	_related(user, resource[field])
}

_related(user, value) if value == user

_related(user, value) if {
	is_array(value)
	user in value
}

_set_has_conditional(set, perm) if {
	some key in _keys(perm)
	some grant in _index.sets[set].grants[key]
	count(grant.objects) + count(grant.scopes) > 0
}

# A requirement is met by an unscoped grant of it on the instance, from any held set.
_holds_unconditionally(active, perm) if {
	some h in active
	_set_covers(h.set, perm, "", {})
}

_superuser_grants(user, instance, now) := sort({{"set": h.set, "via": h.via} |
	not _suspended(user)
	some h in _active_holdings(user, instance, now)
	_index.sets[h.set].superuser
})

# One sentence saying why.
_reason(_, instance, _, _) := sprintf("unknown instance %q", [instance]) if not _index.instances[instance]

_reason(user, instance, _, res) := sprintf("%s is suspended and is allowed nothing", [user]) if {
	_index.instances[instance]
	res.suspended
}

_reason(_, instance, perm, res) := sprintf("the catalog has no permission %s", [perm]) if {
	_index.instances[instance]
	not res.suspended
	not res.known
}

_reason(user, instance, perm, res) := sprintf("%s may %s on %s through %s", [user, perm, instance, _describe_grants(res.grants)]) if {
	res.allow
}

_reason(user, instance, perm, res) := sprintf("%s on %s requires %s, which %s does not hold", [perm, instance, concat(", ", res.missing), user]) if {
	_index.instances[instance]
	not res.suspended
	res.known
	count(res.grants) > 0
	count(res.missing) > 0
}

_reason(user, instance, perm, res) := sprintf("%s holds %s on %s only for some resources, and none given matches", [user, perm, instance]) if {
	_index.instances[instance]
	not res.suspended
	res.known
	count(res.grants) == 0
	res.conditional
}

_reason(user, instance, perm, res) := sprintf("%s holds no set on %s that grants %s", [user, instance, perm]) if {
	_index.instances[instance]
	not res.suspended
	res.known
	count(res.grants) == 0
	not res.conditional
	res.held > 0
}

_reason(user, instance, _, res) := sprintf("%s holds no set on %s", [user, instance]) if {
	_index.instances[instance]
	not res.suspended
	res.known
	res.held == 0
	count(object.get(_index.instances[instance].holdings, user, [])) == 0
}

_reason(user, instance, _, res) := sprintf("%s holds sets on %s, but none is enabled and unexpired", [user, instance]) if {
	_index.instances[instance]
	not res.suspended
	res.known
	res.held == 0
	count(object.get(_index.instances[instance].holdings, user, [])) > 0
}

_describe_grants(grants) := concat(", ", [sprintf("set %s (%s)", [g.set, g.via]) | some g in grants])
