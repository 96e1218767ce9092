# METADATA
# title: actor-unknown
# description: |
#   Deny every change of an actor (--actor) that no User of the base declares, by id, email or
#   login.
# related_resources:
#   - ref: docs/plan.md#actor-unknown
#     description: the rule and what to do about it
# scope: package
package permsets.plan.rules["actor-unknown"]

deny contains finding if {
	is_object(input.actor)
	not input.actor.declared
	finding := {
		"code": "actor-unknown",
		"object": concat("/", ["User", input.actor.given]),
		"file": "",
		"line": 0,
		"message": concat(" ", [
			sprintf(
				"%s is not declared by a User of the base (by id, email or login), so no change of theirs can be allowed.",
				[input.actor.given],
			),
			"Declare them in a User document first, or have a declared user make the change.",
		]),
	}
}
