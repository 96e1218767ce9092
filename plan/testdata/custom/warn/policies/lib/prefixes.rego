# A helper package in a subdirectory (loading is recursive); it defines neither deny nor warn.
package permsets.custom.naming.lib

prefixes := ["fin-", "ops-"]

prefixed(id) if {
	some p in prefixes
	startswith(id, p)
}
