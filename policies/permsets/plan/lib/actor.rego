# What the actor rules (actor-unknown, actor-not-allowed, escalation) share: whether the change
# is judged, and what the actor holds. The actor is input.actor (docs/plan.md): the User an
# --actor value names, their grants on every instance in before (a change cannot first grant its
# author the right to make it), whether they are a system admin, and whether they bootstrap an
# empty base. Without an actor the actor rules find nothing. (The package's METADATA is in
# lib.rego.)
package permsets.plan.lib

# The actor rules judge the change (with --bootstrap only the bootstrapping itself is judged).
judged if {
	is_object(input.actor)
	input.actor.declared
	not input.actor.bootstrap
	not input.actor.system_admin
}

# The actor holds a grant covering p ({feature, action, objects, scopes}) on the instance.
actor_holds(instance, _) if input.actor.superuser[instance]

actor_holds(instance, p) if {
	some g in object.get(input.actor.grants, instance, [])
	_covers(g, p)
}

# A grant covers a permission when it is at least as wide: the same feature and action, or *;
# and without arguments (it covers everything), or with every object and scope the permission
# names (people=read(assigned) does not cover people=read).
_covers(g, p) if {
	g.feature in {"*", p.feature}
	g.action in {"*", p.action}
	count(g.objects) + count(g.scopes) == 0
}

_covers(g, p) if {
	g.feature in {"*", p.feature}
	g.action in {"*", p.action}
	count(p.objects) + count(p.scopes) > 0
	every o in p.objects {
		o in g.objects
	}
	every s in p.scopes {
		s in g.scopes
	}
}
