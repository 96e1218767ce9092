# Another package that finds the same thing (Judge de-duplicates) and one more.
package permsets.custom.team.again

deny contains {
	"code": "no-superuser-sets",
	"object": sprintf("PermissionSet/%s", [id]),
	"file": s.file,
	"line": s.line,
	"message": sprintf("set %q grants *=*; only builtin sets may, ask the security team", [id]),
} if {
	some c in input.changes
	c.kind == "PermissionSet"
	id := c.id
	s := data.permsets_plan.after.sets[id]
	s.superuser
	not s.builtin
}

deny contains {"code": "actor-required", "object": "", "message": "custom rules want an actor"} if {
	input.actor == null
}
