# A custom warn rule: set ids should start with a team prefix.
package permsets.custom.naming

import data.permsets_plan

warn contains {
	"code": "team-prefix",
	"object": sprintf("PermissionSet/%s", [c.id]),
	"message": sprintf("set %q should start with a team prefix (%s)", [c.id, concat(", ", data.permsets.custom.naming.lib.prefixes)]),
} if {
	some c in input.changes
	c.kind == "PermissionSet"
	c.action == "add"
	not data.permsets.custom.naming.lib.prefixed(c.id)
	print("warned", c.id) # print statements are disabled: erased, no output
}

# Rules other than deny and warn are helpers; they are not findings.
recent if permsets_plan.now_ns > 0
