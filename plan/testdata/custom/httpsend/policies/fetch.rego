package permsets.custom.fetch

deny contains {"code": "remote", "message": msg} if {
	resp := http.send({"method": "GET", "url": "https://example.com/allowed"})
	resp.status_code != 200
	msg := "the remote service says no"
}
