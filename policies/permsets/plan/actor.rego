# The actor rules (7 and 8 of DESIGN section 6): who may make a change. The actor is
# input.actor (docs/plan.md): the User an --actor value names, their grants on every instance
# in before (a change cannot first grant its author the right to make it), whether they are a
# system admin, and whether they bootstrap an empty base. Without an actor these rules find
# nothing. (The package's METADATA is in plan.rego.)
package permsets.plan

import data.permsets_plan.after

# The actor rules judge the change (with --bootstrap only the bootstrapping itself is judged).
_judged if {
	is_object(input.actor)
	input.actor.declared
	not input.actor.bootstrap
	not input.actor.system_admin
}

# actor-unknown: an actor no User declares (by id, email or login) is denied.
_actor_not_allowed contains entry if {
	is_object(input.actor)
	not input.actor.declared
	entry := {
		"code": "actor-unknown",
		"object": concat("/", ["User", input.actor.given]),
		"file": "",
		"line": 0,
		"message": sprintf(
			"%s is not declared by a User of the base (by id, email or login), so no change of theirs can be allowed. Declare them in a User document first, or have a declared user make the change.",
			[input.actor.given],
		),
	}
}

# Bootstrapping an empty base is for a system admin of the head.
_actor_not_allowed contains entry if {
	input.actor.bootstrap
	input.actor.declared
	not input.actor.system_admin
	entry := {
		"code": "actor-not-allowed",
		"object": concat("/", ["User", input.actor.id]),
		"file": "",
		"line": 0,
		"message": sprintf(
			"%s may not bootstrap: --bootstrap applies the first revision without the actor rules, which only a system admin (systemAdmin: true in the head) may do.",
			[input.actor.id],
		),
	}
}

# 7. Assignment changes need permset=assign covering each set the assignment gives (before or
# after the change) on its instance.
_actor_not_allowed contains entry if {
	_judged
	some c in input.changes
	c.kind == "Assignment"
	some [instance, set] in _assignment_reaches(c)
	not _actor_holds(instance, {"feature": "permset", "action": "assign", "objects": [set], "scopes": []})
	entry := _finding("actor-not-allowed", _object(c), _where(c), sprintf(
		"%s may not change assignment %s (%s): it gives set %s on %s, and %s does not hold permset=assign covering %s there in the base. Ask someone who may assign it, or a system admin.",
		[input.actor.id, c.id, _at(_where(c)), set, instance, input.actor.id, set],
	))
}

# 7. Set changes need permset=edit covering the set on each instance it is on (before or after).
_actor_not_allowed contains entry if {
	_judged
	some c in _set_changes
	some instance in _set_reaches(c)
	not _actor_holds(instance, {"feature": "permset", "action": "edit", "objects": [c.id], "scopes": []})
	entry := _finding("actor-not-allowed", _object(c), _where(c), sprintf(
		"%s may not change permission set %s (%s) on %s: that needs permset=edit covering %s there in the base. Ask someone who may edit it, or a system admin.",
		[input.actor.id, c.id, _at(_where(c)), instance, c.id],
	))
}

# 7. A set's builtin and fixed flags are for system admins.
_actor_not_allowed contains entry if {
	_judged
	some c in _set_changes
	_touches_builtin_or_fixed(c)
	entry := _finding("actor-not-allowed", _object(c), _where(c), sprintf(
		"%s may not change whether permission set %s (%s) is builtin or fixed: only a system admin may.",
		[input.actor.id, c.id, _at(_where(c))],
	))
}

# 7. Roles, instances, the catalog, users and repository settings are for system admins.
_actor_not_allowed contains entry if {
	_judged
	some c in input.changes
	c.kind in {"Role", "Instance", "Catalog", "User", "Repository"}
	entry := _finding("actor-not-allowed", _object(c), _where(c), sprintf(
		"%s may not %s %s %s (%s): changes to %s documents need a system admin.",
		[input.actor.id, c.action, lower(c.kind), c.id, _at(_where(c)), c.kind],
	))
}

# 8. escalation: what anyone gains on an instance must be covered by the actor's own grants
# there in before (nobody may grant more than they hold). Holders of *=* on the instance and
# system admins are exempt. One finding per (user, instance), naming what is not covered.
_escalation contains entry if {
	_judged
	some a in input.access_changes
	not input.actor.superuser[a.instance]
	uncovered := [g |
		some g in a.gained
		not _actor_holds(a.instance, g.parsed)
	]
	count(uncovered) > 0
	place := _granted_at(uncovered[0])
	entry := _finding("escalation", concat("/", ["User", a.user]), place, sprintf(
		"%s would give %s %s on %s, which %s does not hold there in the base: nobody may grant more than they hold. Leave it out, or have someone who holds it (or a system admin) make the change.",
		[input.actor.id, a.user, concat(", ", [g.permission | some g in uncovered]), a.instance, input.actor.id],
	))
}

# The actor holds a grant covering p ({feature, action, objects, scopes}) on the instance.
_actor_holds(instance, _) if input.actor.superuser[instance]

_actor_holds(instance, p) if {
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

# [instance, set] for every set an assignment gives, before or after the change.
_assignment_reaches(c) := {[o.instance, s] |
	some o in _objects_of(c)
	some s in o.permissionSets
}

# The instances a set is on, before or after the change.
_set_reaches(c) := {i |
	some o in _objects_of(c)
	some i in o.instances
}

_objects_of(c) := [o |
	some k in ["before_object", "after_object"]
	o := c[k]
]

_touches_builtin_or_fixed(c) if {
	some f in c.fields
	f.field in {"builtin", "fixed"}
}

_touches_builtin_or_fixed(c) if {
	c.action in {"add", "remove"}
	some o in _objects_of(c)
	some k in ["builtin", "fixed"]
	o[k] == true
}

# Where a change's object is declared: in after, or in before when it is removed.
_where(c) := c.after if {
	c.after
} else := c.before

# Where a gained permission comes from: the first set that gives it, in after.
_granted_at(g) := {"file": s.file, "line": s.line} if {
	s := after.sets[g.grants[0].set]
} else := {"file": "", "line": 0}
