package permsets.custom.ref

deny contains {"code": "peek", "message": "reads the built-in rules"} if {
	count(data.permsets.plan.deny) > 0
}
