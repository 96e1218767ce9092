# A custom deny rule: no new or changed set may grant *=* outside the builtin sets.
package permsets.custom.team

import data.permsets_plan.after
import input.changes

deny contains {
	"code": "no-superuser-sets",
	"object": sprintf("PermissionSet/%s", [c.id]),
	"file": s.file,
	"line": s.line,
	"message": sprintf("set %q grants *=*; only builtin sets may, ask the security team", [c.id]),
} if {
	some c in changes
	c.kind == "PermissionSet"
	c.action != "remove"
	s := after.sets[c.id]
	s.superuser
	not s.builtin
}
