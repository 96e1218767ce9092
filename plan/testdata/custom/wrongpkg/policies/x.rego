package permsets.plan

deny contains {"code": "x", "message": "overrides a built-in rule"} if true
