package permsets.custom.dns

warn contains {"code": "dns", "message": concat(",", addrs)} if {
	addrs := net.lookup_ip_addr("example.com")
}
