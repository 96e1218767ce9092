package plan

import (
	"testing"

	"github.com/permsets/permsets/config"
)

// TestFindUser: a bare --actor is a forge login and matches logins only; id: and email: name
// a user by id or email. maria (a system admin) has the login mokafor; whoever owns the forge
// account "maria" is not her.
func TestFindUser(t *testing.T) {
	m := &config.Model{Users: []*config.User{ // sorted by id, as a loaded model is
		{ID: "devon", Emails: []string{"devon@example.org"}, Logins: []string{"maria-fan", "id:maria"}},
		{ID: "maria", Emails: []string{"maria@example.org"}, Logins: []string{"mokafor"}, SystemAdmin: true},
	}}
	for _, tc := range []struct {
		note, given, want string // want "" for nobody
	}{
		{"her login", "mokafor", "maria"},
		{"her id, named", "id:maria", "maria"},
		{"her email, named, in another case", "email:Maria@Example.ORG", "maria"},
		{"her id as a login", "maria", ""},
		{"her email as a login", "maria@example.org", ""},
		{"another user's login", "maria-fan", "devon"},
		{"a login is not an id", "id:mokafor", ""},
		{"an id is not an email", "email:maria", ""},
		{"an unknown id", "id:mallory", ""},
		{"empty", "", ""},
		{"a bare prefix", "id:", ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			got := ""
			if u := FindUser(m, tc.given); u != nil {
				got = u.ID
			}
			if got != tc.want {
				t.Errorf("FindUser(%q) = %q, want %q", tc.given, got, tc.want)
			}
		})
	}
}
