# Listings over the same definitions as decisions: a user's effective sets and permissions on
# an instance, the sets they may assign, and who can do something. (The package's METADATA is
# in decision.rego.)
package permsets

import data.permsets_index as index

# METADATA
# title: effective
# description: |
#   For {user, instance}: {sets, permissions}, the enabled, unexpired sets the user holds
#   and the permissions they give after implies and requires (a permission whose
#   requirements are not met is left out). A suspended user has none.
# entrypoint: true
effective := {"sets": sets, "permissions": permissions} if {
	count(_listing_errors) == 0
	sets := sort({h.set | some h in _effective_holdings})
	permissions := sort(_effective_permissions(_effective_holdings))
}

effective := {"sets": [], "permissions": [], "errors": sort(_listing_errors)} if count(_listing_errors) > 0

_listing_errors contains "input must be an object" if not is_object(input)

_listing_errors contains "input.user must be a string" if not is_string(object.get(_input_object, "user", null))

_listing_errors contains "input.instance must be a string" if not is_string(object.get(_input_object, "instance", null))

_listing_errors contains "input.time must be an RFC 3339 date and time" if {
	input.time
	not time.parse_rfc3339_ns(input.time)
}

_effective_holdings := [] if {
	index.suspended[input.user] == true
} else := _active_holdings(input.user, input.instance, _now)

# A superuser holds every permission the catalog knows (or *=* without a catalog).
_effective_permissions(active) := _all_known if _has_superuser(active)

_effective_permissions(active) := {grant.text |
	some h in active
	some key, grants in index.sets[h.set].grants
	some grant in grants
	_requirements_met(active, key)
} if {
	not _has_superuser(active)
}

_has_superuser(active) if {
	some h in active
	h.superuser
}

_all_known := object.keys(index.catalog.known) if index.catalog

_all_known := {"*=*"} if not index.catalog

_requirements_met(active, key) if {
	every r in object.get(_requirements, key, []) {
		_holds_unconditionally(active, r)
	}
}

# METADATA
# title: access
# description: |
#   For {user, instance}: each permission of effective (the same keys) with the held sets
#   that give it, {permission: [{set, via}]}. A superuser's permissions are given by their
#   *=* sets and by any other set granting the same text. Used by plan's access diff; not
#   a decision path of the API.
access := {p: sort(givers) |
	some p in permissions
	givers := {{"set": s, "via": v} | some [q, s, v] in pairs; q == p}
} if {
	count(_listing_errors) == 0
	permissions := _effective_permissions(_effective_holdings)
	pairs := _giving_pairs(_effective_holdings)
}

# [permission text, set, via] for every active holding and the effective permission it gives.
_giving_pairs(active) := {[grant.text, h.set, h.via] |
	some h in active
	some key, grants in index.sets[h.set].grants
	some grant in grants
	_requirements_met(active, key)
} | {[p, h.set, h.via] |
	some h in active
	h.superuser
	some p in _all_known
}

# METADATA
# title: manageable_sets
# description: |
#   For {user, instance}: the ids of the sets on the instance the user may assign, from
#   their permset=assign grants ('id' arguments name sets; without arguments, every set).
# entrypoint: true
manageable_sets := sort(_manageable) if count(_listing_errors) == 0

manageable_sets := [] if count(_listing_errors) > 0

_manageable contains set if {
	_assign_everything
	some set in index.instances[input.instance].sets
}

_manageable contains set if {
	_requirements_met(_effective_holdings, "permset=assign")
	some h in _effective_holdings
	some key in _keys("permset=assign")
	some grant in index.sets[h.set].grants[key]
	some set in grant.objects
	set in index.instances[input.instance].sets
}

_assign_everything if {
	_requirements_met(_effective_holdings, "permset=assign")
	some h in _effective_holdings
	_holding_grants_unconditionally(h, "permset=assign")
}

# METADATA
# title: who_can
# description: |
#   For {instance, permission} (and an optional resource): every user allowed it, with the
#   sets and ways they hold it, answered from the index of holders of the sets that grant
#   the permission, not by scanning every user.
# entrypoint: true
who_can := [entry |
	some user in sort(_candidates)
	entry := _who_can_entry(user)
] if {
	is_string(input.instance)
	is_string(input.permission)
}

# who_can's answer for one candidate: from the user's fast-table cell when it is conclusive (as
# decision reads it), else from the decision rule; undefined when the user is not allowed.
_who_can_entry(user) := {"user": user, "grants": grants} if {
	_who_can_table_ok
	grants := _fast_grants(user, substring(_who_can_rows[user], _who_can_position, 2))
} else := {"user": user, "grants": res.grants} if {
	not _who_can_denied_by_table(user)
	res := _evaluate(user, input.instance, input.permission, _resource, _now)
	res.allow
}

# The table answers who_can without a time and with a valid resource (or none), for a
# permission the catalog knows; a user without a row (suspended, or no catalog) goes to the
# rule. Evaluated once per query, not per candidate.
_who_can_table_ok if {
	not input.time
	is_object(object.get(input, "resource", {}))
}

_who_can_rows := index.instances[input.instance].fast

_who_can_position := index.catalog.positions[input.permission]

# Cells that deny whatever the time and the resource.
_who_can_denied_by_table(user) if {
	_who_can_table_ok
	substring(_who_can_rows[user], _who_can_position, 1) in {"0", "n", "d"}
}

# who_can by the decision rule alone, for every candidate: the definition the fast table
# shortcuts (engine tests compare the two; not served).
_who_can_by_rule := [entry |
	some user in sort(_candidates)
	res := _evaluate(user, input.instance, input.permission, _resource, _now)
	res.allow
	entry := {"user": user, "grants": res.grants}
] if {
	is_string(input.instance)
	is_string(input.permission)
}

# Users holding, on the instance, a set that grants the permission or *=*.
_candidates contains user if {
	some key in (_keys(input.permission) | {"*=*"})
	some set in index.instances[input.instance].granting[key]
	some user in index.instances[input.instance].holders[set]
}
