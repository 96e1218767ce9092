package permsets.custom.broken

deny contains {"code": "x", "message": "y"} if {
	input.changes[_].kind ==
}
