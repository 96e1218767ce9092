# Tests of the deny rules (rules.rego) over the base of plan_test.rego. (The package's
# annotations are in plan_test.rego.)
package permsets.plan_test

# Who references staffer in after: the assignment organizers on hq and the role field-team on
# leader (listed role first: the message sorts them).
_staffer_references := [
	{"kind": "Role", "id": "field-team", "instance": "leader", "file": "roles/field-team.yaml", "line": 1, "users": ["lena"]},
	{"kind": "Assignment", "id": "organizers", "instance": "hq", "file": "assignments/organizers.yaml", "line": 1, "users": ["bob", "alice"]},
]

_staffer_removed_but_held := patched([
	{"op": "remove", "path": "/sets/staffer"},
	{"op": "remove", "path": "/assigned/staffer"},
	{"op": "add", "path": "/references/staffer", "value": _staffer_references},
])

_staffer_still_held := {
	"code": "set-in-use",
	"object": "PermissionSet/staffer",
	"file": "sets/staffer.yaml",
	"line": 1,
	"message": "permission set staffer (sets/staffer.yaml:1) is removed but still held: assignment organizers (assignments/organizers.yaml:1) gives it to alice, bob on hq; role field-team (roles/field-team.yaml:1) gives it to lena on leader. Remove those references in the same change, or keep the set.",
}

# The problems validation finds in after when staffer is removed and still referenced.
_dangling_staffer := [
	{"file": "assignments/organizers.yaml", "line": 6, "column": 5, "code": "unknown-set", "message": "unknown set \"staffer\"", "set": "staffer"},
	{"file": "roles/field-team.yaml", "line": 7, "column": 5, "code": "unknown-set", "message": "unknown set \"staffer\"", "set": "staffer"},
]

# 1. set-in-use

test_deny_set_in_use_removed_set_lists_holders if {
	denied(_staffer_removed_but_held, changes([set_removed("staffer")])) == {_staffer_still_held}
}

test_deny_set_in_use_dangling_reference_reported_once if {
	inp := object.union(changes([set_removed("staffer")]), {"problems": _dangling_staffer})
	denied(_staffer_removed_but_held, inp) == {_staffer_still_held}
}

test_deny_set_in_use_instance_taken_out if {
	after := patched([
		{"op": "replace", "path": "/sets/staffer/instances", "value": ["hq"]},
		{"op": "add", "path": "/references/staffer", "value": _staffer_references},
	])
	inp := changes([set_changed(after, "staffer", set_fields(after, "staffer"))])
	denied(after, inp) == {{
		"code": "set-in-use",
		"object": "PermissionSet/staffer",
		"file": "sets/staffer.yaml",
		"line": 1,
		"message": "permission set staffer (sets/staffer.yaml:1) is removed from instance leader but still held there: role field-team (roles/field-team.yaml:1) gives it to lena on leader. Remove that reference in the same change, or keep leader in the set's instances.",
	}}
}

test_deny_set_in_use_by_a_role_without_members if {
	after := patched([
		{"op": "remove", "path": "/sets/events"},
		{"op": "add", "path": "/references/events", "value": [{"kind": "Role", "id": "ushers", "instance": "hq", "file": "roles/ushers.yaml", "line": 2, "users": []}]},
	])
	[entry] := [e | some e in denied(after, changes([set_removed("events")]))]
	entry.message == "permission set events (sets/hq/events.yaml:1) is removed but still held: role ushers (roles/ushers.yaml:2) gives it to no one yet on hq. Remove that reference in the same change, or keep the set."
}

test_allow_set_removed_with_its_references if {
	# The assignment goes and the role drops the set: after references staffer nowhere.
	after := patched([{"op": "remove", "path": "/sets/staffer"}, {"op": "remove", "path": "/assigned/staffer"}])
	inp := changes([
		set_removed("staffer"),
		{
			"kind": "Assignment", "id": "organizers", "action": "remove",
			"before": at("assignments/organizers.yaml"),
			"before_object": {"id": "organizers", "instance": "hq", "users": ["alice", "bob"], "permissionSets": ["staffer"]},
		},
		{
			"kind": "Role", "id": "field-team", "action": "change",
			"fields": [{"field": "permissionSets", "old": ["leader/staffer", "leader/reports"], "new": ["leader/reports"]}],
			"before": at("roles/field-team.yaml"), "after": at("roles/field-team.yaml"),
			"before_object": {"id": "field-team", "members": ["lena"], "permissionSets": ["leader/staffer", "leader/reports"]},
			"after_object": {"id": "field-team", "members": ["lena"], "permissionSets": ["leader/reports"]},
		},
	])
	denied(after, inp) == set()
	warned(after, inp) == set()
}

test_allow_instance_taken_out_where_no_one_holds_the_set if {
	after := patched([
		{"op": "replace", "path": "/sets/staffer/instances", "value": ["hq"]},
		{"op": "add", "path": "/references/staffer", "value": [_staffer_references[1]]},
	])
	denied(after, changes([set_changed(after, "staffer", set_fields(after, "staffer"))])) == set()
}

# invalid

test_deny_invalid_other_problems if {
	inp := object.union(changes([]), {"problems": [
		{"file": "assignments/organizers.yaml", "line": 4, "column": 3, "code": "schema", "message": "users must be a list"},
		{"file": "roles/field-team.yaml", "line": 7, "column": 5, "code": "unknown-set", "message": "unknown set \"stafer\"; did you mean \"staffer\"?", "set": "stafer"},
	]})
	denied(base, inp) == {
		{
			"code": "invalid", "object": "", "file": "assignments/organizers.yaml", "line": 4,
			"message": "schema: users must be a list",
		},
		{
			"code": "invalid", "object": "", "file": "roles/field-team.yaml", "line": 7,
			"message": "unknown-set: unknown set \"stafer\"; did you mean \"staffer\"?",
		},
	}
}

test_deny_invalid_dangling_reference_no_one_holds if {
	# events is removed and referenced by no assignment or role, but editableSets still names
	# it: set-in-use does not report it, so the problem is reported as it is.
	after := patched([{"op": "remove", "path": "/sets/events"}])
	problem := {"file": "instances/hq.yaml", "line": 9, "column": 7, "code": "unknown-set", "message": "editableSets: unknown set \"events\"", "set": "events"}
	inp := object.union(changes([set_removed("events")]), {"problems": [problem]})
	denied(after, inp) == {{
		"code": "invalid", "object": "", "file": "instances/hq.yaml", "line": 9,
		"message": "unknown-set: editableSets: unknown set \"events\"",
	}}
}

# 2. fixed-set

_admin_without_superuser := patched([
	{"op": "replace", "path": "/sets/admin/permissions", "value": ["people=read"]},
	{"op": "replace", "path": "/sets/admin/grants", "value": ["people=read"]},
	{"op": "replace", "path": "/sets/admin/superuser", "value": false},
])

test_deny_fixed_set_edited if {
	after := _admin_without_superuser
	inp := changes([set_changed(after, "admin", set_fields(after, "admin"))])
	denied(after, inp) == {
		{
			"code": "fixed-set",
			"object": "PermissionSet/admin",
			"file": "sets/admin.yaml",
			"line": 1,
			"message": "permission set admin (sets/admin.yaml:1) is fixed, but this change edits its permissions. Revert that; a fixed set may only gain instances.",
		},
		# The admin set is not in leader's editableSets either.
		{
			"code": "set-not-editable",
			"object": "PermissionSet/admin",
			"file": "sets/admin.yaml",
			"line": 1,
			"message": "permission set admin (sets/admin.yaml:1) cannot be changed on instance leader (instances/leader.yaml:1): its editableSets list only staffer. Leave the set as it is there, or have the instance's editableSets list it first, in a change of its own.",
		},
	}
}

test_deny_fixed_set_loses_instance if {
	after := patched([{"op": "replace", "path": "/sets/admin/instances", "value": ["hq", "leader"]}])
	inp := changes([set_changed(after, "admin", set_fields(after, "admin"))])
	denied(after, inp) == {{
		"code": "fixed-set",
		"object": "PermissionSet/admin",
		"file": "sets/admin.yaml",
		"line": 1,
		"message": "permission set admin (sets/admin.yaml:1) is fixed, but this change removes it from instance legacy. Revert that; a fixed set may only gain instances.",
	}}
}

test_deny_fixed_set_edited_and_loses_instances if {
	after := patched([
		{"op": "replace", "path": "/sets/admin/instances", "value": ["leader"]},
		{"op": "replace", "path": "/sets/admin/name", "value": "Administrators"},
		{"op": "replace", "path": "/sets/admin/enabled", "value": false},
	])
	inp := changes([set_changed(after, "admin", set_fields(after, "admin"))])
	[entry] := [e | some e in of_code(denied(after, inp), "fixed-set")]
	entry.message == "permission set admin (sets/admin.yaml:1) is fixed, but this change edits its enabled, name and removes it from instances hq, legacy. Revert that; a fixed set may only gain instances."
}

test_deny_fixed_set_removed if {
	after := patched([{"op": "remove", "path": "/sets/admin"}])
	of_code(denied(after, changes([set_removed("admin")])), "fixed-set") == {{
		"code": "fixed-set",
		"object": "PermissionSet/admin",
		"file": "sets/admin.yaml",
		"line": 1,
		"message": "permission set admin (sets/admin.yaml:1) is fixed and cannot be removed. Keep it; a fixed set may only gain instances.",
	}}
}

# A new tenant: the instance tenant (editableSets [staffer]) is created and the admin set given
# to it. Not set-not-editable either: tenant is not in before.
_tenant := {"name": "Tenant", "package": "leader", "file": "instances/tenant.yaml", "line": 1, "maxCustomSets": 0, "editableSets": ["staffer"]}

_tenant_added := {"kind": "Instance", "id": "tenant", "action": "add", "after": at("instances/tenant.yaml"), "after_object": {"id": "tenant", "name": "Tenant"}}

test_allow_admin_set_gains_new_instance if {
	after := patched([
		{"op": "add", "path": "/instances/tenant", "value": _tenant},
		{"op": "add", "path": "/sets/admin/instances/-", "value": "tenant"},
	])
	inp := changes([_tenant_added, set_changed(after, "admin", set_fields(after, "admin"))])
	denied(after, inp) == set()
	warned(after, inp) == set()
}

# 3. custom-set-limit

test_deny_sixth_custom_set_on_hq if {
	after := patched([
		{"op": "add", "path": "/sets/volunteers", "value": permission_set("Volunteers", ["hq"], ["people=read"], ["people=read"], "sets/hq/volunteers.yaml")},
		{"op": "add", "path": "/assigned/volunteers", "value": true},
	])
	denied(after, changes([set_added(after, "volunteers")])) == {{
		"code": "custom-set-limit",
		"object": "Instance/hq",
		"file": "instances/hq.yaml",
		"line": 1,
		"message": "instance hq (instances/hq.yaml:1) would have 6 custom permission sets, more than its maxCustomSets of 5 (5 before; new on it: volunteers). Remove custom sets from hq, or raise its maxCustomSets.",
	}}
}

test_allow_custom_sets_above_limit_that_do_not_grow if {
	# legacy has 3 custom sets for a limit of 1; editing one keeps 3.
	after := patched([{"op": "replace", "path": "/sets/legacy-reports/permissions", "value": ["finances=read", "people=read"]}])
	denied(after, changes([set_changed(after, "legacy-reports", set_fields(after, "legacy-reports"))])) == set()
}

test_allow_builtin_set_or_raised_limit if {
	builtin := object.union(permission_set("Greeter", ["hq"], ["people=read"], ["people=read"], "sets/greeter.yaml"), {"builtin": true})
	after := patched([{"op": "add", "path": "/sets/greeter", "value": builtin}])
	denied(after, changes([set_added(after, "greeter")])) == set()

	raised := patched([
		{"op": "add", "path": "/sets/volunteers", "value": permission_set("Volunteers", ["hq"], ["people=read"], ["people=read"], "sets/hq/volunteers.yaml")},
		{"op": "replace", "path": "/instances/hq/maxCustomSets", "value": 6},
	])
	denied(raised, changes([set_added(raised, "volunteers")])) == set()
}

test_deny_custom_set_limit_of_new_instance if {
	after := patched([
		{"op": "add", "path": "/instances/tenant", "value": _tenant},
		{"op": "add", "path": "/sets/tenant-staff", "value": permission_set("Tenant staff", ["tenant"], ["people=read"], ["people=read"], "sets/tenant/staff.yaml")},
	])
	denied(after, changes([_tenant_added, set_added(after, "tenant-staff")])) == {{
		"code": "custom-set-limit",
		"object": "Instance/tenant",
		"file": "instances/tenant.yaml",
		"line": 1,
		"message": "instance tenant (instances/tenant.yaml:1) would have 1 custom permission set, more than its maxCustomSets of 0 (0 before; new on it: tenant-staff). Remove custom sets from tenant, or raise its maxCustomSets.",
	}}
}

# 4. set-not-editable

test_deny_editing_other_set_on_leader if {
	after := patched([{"op": "replace", "path": "/sets/reports/permissions", "value": ["finances=read", "people=read"]}])
	denied(after, changes([set_changed(after, "reports", set_fields(after, "reports"))])) == {{
		"code": "set-not-editable",
		"object": "PermissionSet/reports",
		"file": "sets/reports.yaml",
		"line": 1,
		"message": "permission set reports (sets/reports.yaml:1) cannot be changed on instance leader (instances/leader.yaml:1): its editableSets list only staffer. Leave the set as it is there, or have the instance's editableSets list it first, in a change of its own.",
	}}
}

test_allow_editing_staffer_on_leader if {
	after := patched([{"op": "replace", "path": "/sets/staffer/permissions", "value": ["people=read"]}])
	denied(after, changes([set_changed(after, "staffer", set_fields(after, "staffer"))])) == set()
}

test_deny_set_created_added_and_removed_on_leader if {
	after := patched([
		{"op": "add", "path": "/sets/bulletin", "value": permission_set("Bulletin", ["leader"], ["events=read"], ["events=read"], "sets/leader/bulletin.yaml")},
		{"op": "replace", "path": "/sets/finance/instances", "value": ["hq", "leader"]},
		{"op": "replace", "path": "/sets/reports/instances", "value": ["legacy"]},
		{"op": "remove", "path": "/sets/events"},
	])
	inp := changes([
		set_added(after, "bulletin"),
		set_changed(after, "finance", set_fields(after, "finance")),
		set_changed(after, "reports", set_fields(after, "reports")),
		set_removed("events"),
	])
	{[f.object, f.message] | some f in of_code(denied(after, inp), "set-not-editable")} == {
		["PermissionSet/bulletin", "permission set bulletin (sets/leader/bulletin.yaml:1) cannot be created on instance leader (instances/leader.yaml:1): its editableSets list only staffer. Leave the set as it is there, or have the instance's editableSets list it first, in a change of its own."],
		["PermissionSet/finance", "permission set finance (sets/hq/finance.yaml:1) cannot be added to instance leader (instances/leader.yaml:1): its editableSets list only staffer. Leave the set as it is there, or have the instance's editableSets list it first, in a change of its own."],
		["PermissionSet/reports", "permission set reports (sets/reports.yaml:1) cannot be removed from instance leader (instances/leader.yaml:1): its editableSets list only staffer. Leave the set as it is there, or have the instance's editableSets list it first, in a change of its own."],
	}
}

test_deny_set_removed_on_instance_that_lists_no_editable_set if {
	# hq, which lets no set be edited, is removed with its sets: the message points at it in
	# before.
	before := json.patch(base, [{"op": "add", "path": "/instances/hq/editableSets", "value": []}])
	after := json.patch(before, [{"op": "remove", "path": "/sets/events"}, {"op": "remove", "path": "/instances/hq"}])
	denied_from(before, after, changes([set_removed("events")])) == {{
		"code": "set-not-editable",
		"object": "PermissionSet/events",
		"file": "sets/hq/events.yaml",
		"line": 1,
		"message": "permission set events (sets/hq/events.yaml:1) cannot be removed from instance hq (instances/hq.yaml:1): its editableSets list no set. Leave the set as it is there, or have the instance's editableSets list it first, in a change of its own.",
	}}
}

# 5. disabled-set-assigned

_hq_staff := {"id": "hq-staff", "instance": "hq", "users": ["bob", "alice"], "permissionSets": ["staffer"]}

_hq_staff_changed(new) := {
	"kind": "Assignment",
	"id": "hq-staff",
	"action": "change",
	"fields": [{"field": "permissionSets", "old": ["staffer"], "new": new.permissionSets}],
	"before": at("assignments/hq-staff.yaml"),
	"after": at("assignments/hq-staff.yaml"),
	"before_object": _hq_staff,
	"after_object": new,
}

test_deny_assignment_gives_disabled_set if {
	inp := changes([_hq_staff_changed(object.union(_hq_staff, {"permissionSets": ["staffer", "archived"]}))])
	denied(base, inp) == {{
		"code": "disabled-set-assigned",
		"object": "Assignment/hq-staff",
		"file": "assignments/hq-staff.yaml",
		"line": 1,
		"message": "assignment hq-staff (assignments/hq-staff.yaml:1) newly gives permission set archived (sets/hq/archived.yaml:1), which is disabled, to alice, bob on hq. Enable the set, or assign an enabled one.",
	}}
}

test_deny_role_gives_disabled_set if {
	role := {"id": "archivists", "members": ["lena"], "permissionSets": ["leader/staffer", "hq/archived"]}
	inp := changes([{"kind": "Role", "id": "archivists", "action": "add", "after": at("roles/archivists.yaml"), "after_object": role}])
	denied(base, inp) == {{
		"code": "disabled-set-assigned",
		"object": "Role/archivists",
		"file": "roles/archivists.yaml",
		"line": 1,
		"message": "role archivists (roles/archivists.yaml:1) newly gives permission set archived (sets/hq/archived.yaml:1), which is disabled, to its members lena on hq. Enable the set, or give the role an enabled one.",
	}}
}

test_allow_disabling_an_assigned_set if {
	after := patched([{"op": "replace", "path": "/sets/finance/enabled", "value": false}])
	inp := changes([set_changed(after, "finance", set_fields(after, "finance"))])
	denied(after, inp) == set()
}

test_allow_assignment_that_already_gave_a_disabled_set if {
	old := object.union(_hq_staff, {"permissionSets": ["archived"]})
	change := {
		"kind": "Assignment", "id": "hq-staff", "action": "change",
		"fields": [{"field": "users", "old": old.users, "new": ["alice"]}],
		"before": at("assignments/hq-staff.yaml"), "after": at("assignments/hq-staff.yaml"),
		"before_object": old, "after_object": object.union(old, {"users": ["alice"]}),
	}
	denied(base, changes([change])) == set()
}

# 6. separation-of-duties

_alice_approves := {
	"user": "alice",
	"instance": "hq",
	"gained": [{"permission": "payments=approve", "grants": [{"set": "approvals", "via": "direct"}]}],
	"lost": [],
	"before_keys": ["payments=create", "people=read"],
	"after_keys": ["payments=approve", "payments=create", "people=read"],
	"superuser_after": false,
}

_access(access_changes) := {"changes": [], "access_changes": access_changes, "problems": [], "actor": null}

test_deny_separation_of_duties if {
	denied(base, _access([_alice_approves])) == {{
		"code": "separation-of-duties",
		"object": "User/alice",
		"file": "catalog.yaml",
		"line": 30,
		"message": "alice would newly hold every permission of separation-of-duties rule payments (catalog.yaml:30) on hq: payments=create, payments=approve. Keep them with different people: drop the grant that gives alice the last of them.",
	}}
}

test_deny_separation_of_duties_rule_placed_at_the_catalog if {
	after := patched([
		{"op": "replace", "path": "/catalog/separationOfDuties/0/file", "value": ""},
		{"op": "replace", "path": "/catalog/separationOfDuties/0/line", "value": 0},
	])
	[entry] := [e | some e in denied(after, _access([_alice_approves]))]
	[entry.file, entry.line] == ["catalog.yaml", 1]
	contains(entry.message, "rule payments (catalog.yaml:1) on hq")
}

test_allow_separation_of_duties_superuser if {
	denied(base, _access([object.union(_alice_approves, {"superuser_after": true})])) == set()
}

test_allow_separation_of_duties_held_before_or_not_complete if {
	both_before := object.union(_alice_approves, {
		"gained": [{"permission": "people=edit", "grants": [{"set": "staffer", "via": "direct"}]}],
		"before_keys": ["payments=approve", "payments=create"],
		"after_keys": ["payments=approve", "payments=create", "people=edit"],
	})
	only_one := object.union(_alice_approves, {"before_keys": [], "after_keys": ["payments=approve"]})
	no_gain := object.union(_alice_approves, {"gained": []})
	denied(base, _access([both_before, only_one, no_gain])) == set()
}

# 9. catalog-removed

_catalog_change(action) := {"kind": "Catalog", "id": "catalog", "action": action, "before": at("catalog.yaml")}

test_deny_catalog_removed if {
	after := patched([{"op": "replace", "path": "/catalog", "value": null}])
	denied(after, changes([_catalog_change("remove")])) == {{
		"code": "catalog-removed",
		"object": "Catalog/catalog",
		"file": "catalog.yaml",
		"line": 1,
		"message": "the catalog (catalog.yaml:1) is removed: every requirement and separation-of-duties rule it declares would silently stop applying. Keep a catalog.",
	}}
}

test_allow_catalog_changed if {
	change := object.union(_catalog_change("change"), {"after": at("catalog.yaml"), "fields": [{"field": "separationOfDuties", "old": [], "new": []}]})
	denied(base, changes([change])) == set()
}
