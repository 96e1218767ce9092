# Test files are ignored: this one would be refused (package, http.send).
package permsets.custom.rule_test

import data.permsets.custom.rule

test_always if {
	http.send({"method": "GET", "url": "https://example.com"})
	count(rule.warn) == 1
}
