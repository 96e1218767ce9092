package testrun

import "github.com/permsets/permsets/config"

// Scope returns the part of m the checks of tests can observe, for compiling less
// (config.Model.Reduced): the holdings of the users a case or an effective check names (a
// decision's user is an id; logins and emails name users only in resources), and every holding
// of an instance with a who-can check, which lists them all. Every check answers on it exactly
// as on m (TestScopeAnswersAsTheModel holds this). It is for running tests, never for serving.
func Scope(m *config.Model, tests []*config.Test) *config.Model {
	users := map[string]bool{}
	whole := map[string]bool{}
	for _, t := range tests {
		for _, c := range t.Cases {
			users[c.User] = true
		}
		for _, c := range t.Effective {
			users[c.User] = true
		}
		if len(t.WhoCan) > 0 {
			whole[t.Instance] = true
		}
	}
	return m.Reduced(users, whole)
}
