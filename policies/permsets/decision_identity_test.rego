# Tests of the identities of decision.rego: a relation field names a user by id, login or
# email (ignoring case), and an ambiguous name names nobody by it.
package permsets_test

import data.permsets

_identities := {
	"logins": {"ann-gh": "ann", "bob": "cat"},
	"emails": {"ann@x.org": "ann"},
	"ambiguous": {"bob": true},
}

test_success_related_by_id if {
	permsets._related("ann", "ann") with data.permsets_index.identities as _identities
}

test_success_related_by_login if {
	permsets._related("ann", ["z", "ann-gh"]) with data.permsets_index.identities as _identities
}

test_success_related_by_email_ignoring_case if {
	permsets._related("ann", "Ann@X.org") with data.permsets_index.identities as _identities
}

test_fail_related_by_ambiguous_login if {
	not permsets._related("cat", "bob") with data.permsets_index.identities as _identities
}

test_success_ambiguous_name_still_the_id if {
	permsets._related("bob", "bob") with data.permsets_index.identities as _identities
}

test_fail_related_other_user if {
	not permsets._related("bob", "ann@x.org") with data.permsets_index.identities as _identities
}

test_fail_related_without_identities if {
	not permsets._related("ann", "ann-gh") with data.permsets_index as {}
}
