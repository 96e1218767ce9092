package permsets.custom.spin

# 10^10 iterations: only a deadline stops it.
deny contains {"code": "spin", "message": sprintf("%d", [n])} if {
	n := count([1 |
		some i in numbers.range(1, 100000)
		some j in numbers.range(1, 100000)
		i != j
	])
}
