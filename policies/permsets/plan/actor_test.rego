# Tests of actor.rego (actor-unknown, actor-not-allowed, escalation) over the fixture of
# plan_test.rego. (The package's METADATA is in plan_test.rego.)
package permsets.plan_test

import data.permsets.plan

# A grant as the engine parses it into input.actor.grants.
grant(text, feature, action, objects, scopes) := {
	"text": text, "feature": feature, "action": action,
	"objects": objects, "scopes": scopes,
}

# A declared actor with the given grants on hq (and nothing elsewhere).
actor(id, hq_grants) := {
	"given": id, "id": id, "declared": true, "system_admin": false, "bootstrap": false,
	"grants": {"hq": hq_grants}, "superuser": {},
}

may_assign_staffer := grant("permset=assign('staffer')", "permset", "assign", ["staffer"], [])

staffer_perms := [
	grant("people=read", "people", "read", [], []),
	grant("people=edit", "people", "edit", [], []),
]

with_actor(inp, a) := object.union(inp, {"actor": a})

# An assignment of set on hq to bob, added.
assignment_added(id, set) := {
	"kind": "Assignment", "id": id, "action": "add", "after": at("assignments/x.yaml"),
	"after_object": {"id": id, "instance": "hq", "users": ["bob"], "permissionSets": [set]},
}

# bob gains what a set gives on hq.
gains(set, perms) := {
	"user": "bob", "instance": "hq", "before_keys": [], "after_keys": [], "superuser_after": false,
	"gained": [{"permission": p.text, "grants": [{"set": set, "via": "direct"}], "parsed": p} | some p in perms],
	"lost": [],
}

codes(findings) := {f.code | some f in findings}

role_changed := {
	"kind": "Role", "id": "organizers", "action": "change", "before": at("roles/organizers.yaml"), "after": at("roles/organizers.yaml"),
	"fields": [{"field": "permissionSets", "old": ["hq/staffer"], "new": ["hq/staffer", "hq/finance"]}],
	"before_object": {"id": "organizers", "members": ["bob"], "permissionSets": ["hq/staffer"]},
	"after_object": {"id": "organizers", "members": ["bob"], "permissionSets": ["hq/staffer", "hq/finance"]},
}

test_deny_role_mapping_changed_by_delegated_admin if {
	inp := with_actor(changes([role_changed]), actor("dana", [may_assign_staffer]))
	of_code(denied(base, inp), "actor-not-allowed") == {{
		"code": "actor-not-allowed",
		"object": "Role/organizers",
		"file": "roles/organizers.yaml",
		"line": 1,
		"message": "dana may not change role organizers (roles/organizers.yaml:1): changes to Role documents need a system admin.",
	}}
}

test_allow_role_mapping_changed_by_system_admin if {
	admin := object.union(actor("root", []), {"system_admin": true})
	denied(base, with_actor(changes([role_changed]), admin)) == set()
}

test_deny_delegated_admin_assigns_a_set_they_may_not if {
	inp := with_actor(changes([assignment_added("a1", "finance")]), actor("dana", [may_assign_staffer]))
	d := of_code(denied(base, inp), "actor-not-allowed")
	count(d) == 1
	some f in d
	contains(f.message, "does not hold permset=assign covering finance")
}

test_allow_delegated_admin_assigns_staffer_holding_all_of_it if {
	inp := object.union(
		with_actor(changes([assignment_added("a1", "staffer")]), actor("dana", array.concat([may_assign_staffer], staffer_perms))),
		{"access_changes": [gains("staffer", staffer_perms)]},
	)
	denied(base, inp) == set()
}

test_deny_escalation_assigning_what_the_actor_does_not_hold if {
	inp := object.union(
		with_actor(changes([assignment_added("a1", "staffer")]), actor("dana", [may_assign_staffer])),
		{"access_changes": [gains("staffer", staffer_perms)]},
	)
	denied(base, inp) == {{
		"code": "escalation",
		"object": "User/bob",
		"file": "sets/staffer.yaml",
		"line": 1,
		"message": "dana would give bob people=read, people=edit on hq, which dana does not hold there in the base: nobody may grant more than they hold. Leave it out, or have someone who holds it (or a system admin) make the change.",
	}}
}

# A scoped grant does not cover the unscoped permission; the unscoped one covers the scoped.
test_escalation_grant_coverage if {
	scoped := grant("people=read(assigned)", "people", "read", [], ["assigned"])
	unscoped := grant("people=read", "people", "read", [], [])
	base_inp := with_actor(changes([assignment_added("a1", "staffer")]), actor("dana", [may_assign_staffer, scoped]))
	of_code(denied(base, object.union(base_inp, {"access_changes": [gains("staffer", [unscoped])]})), "escalation") != set()
	wide := with_actor(changes([assignment_added("a1", "staffer")]), actor("dana", [may_assign_staffer, unscoped]))
	of_code(denied(base, object.union(wide, {"access_changes": [gains("staffer", [scoped])]})), "escalation") == set()
	every_feature := grant("*=*", "*", "*", [], [])
	star := with_actor(changes([assignment_added("a1", "staffer")]), actor("dana", [every_feature]))
	denied(base, object.union(star, {"access_changes": [gains("staffer", [unscoped])]})) == set()
}

test_deny_escalation_adding_superuser_to_a_set_the_actor_holds if {
	after := patched([{"op": "replace", "path": "/sets/outreach/permissions", "value": ["people=read", "*=*"]}])
	change := object.union(set_changed(after, "outreach", set_fields(after, "outreach")), {
		"before_object": {"id": "outreach", "instances": ["hq"], "permissions": ["people=read"]},
		"after_object": {"id": "outreach", "instances": ["hq"], "permissions": ["people=read", "*=*"]},
	})
	may_edit := grant("permset=edit('outreach')", "permset", "edit", ["outreach"], [])
	inp := object.union(with_actor(changes([change]), actor("dana", [may_edit, grant("people=read", "people", "read", [], [])])), {
		"access_changes": [object.union(gains("outreach", [grant("finances=read", "finances", "read", [], [])]), {"user": "dana"})],
	})
	codes(denied(after, inp)) == {"escalation"}
}

test_deny_set_edit_without_permset_edit if {
	after := patched([{"op": "replace", "path": "/sets/outreach/name", "value": "Outreach team"}])
	change := object.union(set_changed(after, "outreach", set_fields(after, "outreach")), {
		"before_object": {"id": "outreach", "instances": ["hq"]},
		"after_object": {"id": "outreach", "instances": ["hq"]},
	})
	codes(denied(after, with_actor(changes([change]), actor("dana", [may_assign_staffer])))) == {"actor-not-allowed"}
}

test_deny_builtin_flag_needs_system_admin if {
	after := patched([{"op": "replace", "path": "/sets/outreach/builtin", "value": true}])
	change := object.union(set_changed(after, "outreach", set_fields(after, "outreach")), {
		"before_object": {"id": "outreach", "instances": ["hq"], "builtin": false},
		"after_object": {"id": "outreach", "instances": ["hq"], "builtin": true},
	})
	may_edit := grant("permset=edit('outreach')", "permset", "edit", ["outreach"], [])
	d := denied(after, with_actor(changes([change]), actor("dana", [may_edit])))
	some f in d
	f.code == "actor-not-allowed"
	contains(f.message, "builtin or fixed")
}

test_deny_reenabling_an_assigned_set_by_a_non_admin if {
	after := patched([{"op": "replace", "path": "/sets/archived/enabled", "value": true}])
	change := object.union(set_changed(after, "archived", set_fields(after, "archived")), {
		"before_object": {"id": "archived", "instances": ["hq"], "enabled": false},
		"after_object": {"id": "archived", "instances": ["hq"], "enabled": true},
	})
	may_edit := grant("permset=edit('archived')", "permset", "edit", ["archived"], [])
	inp := object.union(with_actor(changes([change]), actor("dana", [may_edit])), {
		"access_changes": [gains("archived", [grant("people=export", "people", "export", [], [])])],
	})
	codes(denied(after, inp)) == {"escalation"}
	admin := object.union(actor("root", []), {"system_admin": true})
	denied(after, object.union(inp, {"actor": admin})) == set()
}

# Judged on before: a grant the same change gives the actor does not count.
test_deny_actor_granting_themselves_in_the_same_change if {
	inp := object.union(
		with_actor(changes([assignment_added("a1", "finance")]), actor("bob", [])),
		{"access_changes": [gains("finance", [grant("finances=read", "finances", "read", [], [])])]},
	)
	codes(denied(base, inp)) == {"actor-not-allowed", "escalation"}
}

test_deny_undeclared_actor if {
	unknown := {"given": "mallory@example.org", "id": "", "declared": false, "system_admin": false, "bootstrap": false, "grants": {}, "superuser": {}}
	denied(base, with_actor(changes([]), unknown)) == {{
		"code": "actor-unknown",
		"object": "User/mallory@example.org",
		"file": "",
		"line": 0,
		"message": "mallory@example.org is not declared by a User of the base (by id, email or login), so no change of theirs can be allowed. Declare them in a User document first, or have a declared user make the change.",
	}}
}

test_allow_superuser_on_the_instance if {
	gained := {"access_changes": [gains("finance", [grant("finances=read", "finances", "read", [], [])])]}
	owner := object.union(actor("olu", []), {"superuser": {"hq": true}})
	denied(base, object.union(with_actor(changes([assignment_added("a1", "finance")]), owner), gained)) == set()

	# ... but not on another instance, nor for a role.
	elsewhere := object.union(actor("olu", []), {"superuser": {"leader": true}})
	inp := object.union(with_actor(changes([assignment_added("a1", "finance")]), elsewhere), gained)
	codes(denied(base, inp)) == {"actor-not-allowed", "escalation"}
	codes(denied(base, with_actor(changes([role_changed]), owner))) == {"actor-not-allowed"}
}

test_bootstrap if {
	admin := {"given": "root", "id": "root", "declared": true, "system_admin": true, "bootstrap": true, "grants": {}, "superuser": {}}
	inp := with_actor(changes([role_changed, assignment_added("a1", "finance")]), admin)
	denied_from(object.union(base, {"present": false}), base, inp) == set()
	not_admin := object.union(admin, {"system_admin": false})
	codes(denied_from(object.union(base, {"present": false}), base, object.union(inp, {"actor": not_admin}))) == {"actor-not-allowed"}
}

test_no_actor_no_actor_rules if {
	denied(base, changes([role_changed, assignment_added("a1", "finance")])) == set()
}
