package permsets.custom.clock

warn contains {"code": "friday", "message": "no changes on Fridays"} if {
	time.weekday(time.now_ns()) == "Friday"
}
