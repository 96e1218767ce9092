# What a search for resources reads: the objects a user's grants name. (The package's METADATA is
# in decision.rego.)
package permsets

import data.permsets_index as index

# METADATA
# title: objects
# description: |
#   For {user, instance, permission}: {objects, every, scoped}. objects are the ids the
#   user's active grants of the permission name by quoted argument, sorted; every is true
#   when an active grant without arguments (or *=* for a known permission) covers every
#   object; scoped is true when a grant covers the resources whose relation fields name the
#   user, which no list can hold. The AuthZEN resource search lists the objects the allow
#   decision allows. Not a decision path of the API.
objects := {"objects": sort(_named_objects), "every": _covers_every, "scoped": _covers_scoped} if {
	count(_listing_errors) == 0
	is_string(input.permission)
}

_object_grants contains grant if {
	not index.suspended[input.user]
	some h in _effective_holdings
	some key in _keys(input.permission)
	some grant in index.sets[h.set].grants[key]
}

_named_objects contains id if {
	some grant in _object_grants
	some id in grant.objects
}

default _covers_every := false

_covers_every if {
	some grant in _object_grants
	grant.unconditional
}

_covers_every if {
	not index.suspended[input.user]
	_known(input.permission)
	some h in _effective_holdings
	h.superuser
}

default _covers_scoped := false

_covers_scoped if {
	some grant in _object_grants
	count(grant.relations) > 0
}
