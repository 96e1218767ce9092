# METADATA
# title: permsets change rules
# description: |
#   What a change to the config repository may not do (deny) and what should make a reviewer
#   look twice (warn), as permsctl plan reports them (docs/plan.md). Each
#   built-in rule is a package of its own under permsets.plan.rules, named by the code of its
#   findings, in rules/<code>/ beside its tests; deny and warn here are the union of the deny
#   and warn of every such package, found by name, so adding a rule is adding its package.
#   The rules read the two models compiled at data.permsets_plan (before: the base; after: the
#   working tree; now_ns: the time of the plan) and the plan in the input (changes,
#   access_changes, problems, actor). Every finding is {code, object, file, line, message}
#   (permsets.plan.lib.finding).
# related_resources:
#   - ref: docs/plan.md#the-built-in-rules
#     description: every rule, and how a built-in rule is added
# authors:
#   - permsets
# scope: package
package permsets.plan

# METADATA
# title: deny
# description: |
#   What the change may not do: the deny findings of every package under permsets.plan.rules
#   (set-in-use, fixed-set, custom-set-limit, set-not-editable, disabled-set-assigned,
#   separation-of-duties, catalog-removed, invalid, and with an actor actor-unknown,
#   actor-not-allowed and escalation).
# entrypoint: true
deny contains data.permsets.plan.rules[_].deny[_]

# METADATA
# title: warn
# description: |
#   What a reviewer should look at twice, only about the objects the change adds or changes:
#   the warn findings of every package under permsets.plan.rules (ineffective-permission,
#   wildcard-grant, unassigned-set, expiring-assignment, set-naming).
# entrypoint: true
warn contains data.permsets.plan.rules[_].warn[_]
