package permsets.custom.rule

warn contains {"code": "always", "message": "a custom warning"} if true
