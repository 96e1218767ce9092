package config_test

import (
	"strings"
	"testing"

	"github.com/permsets/permsets/config"
)

func TestParsePermission(t *testing.T) {
	for _, tc := range []struct {
		note, in, canonical string
		feature, action     string
		objects, scopes     []string
	}{
		{note: "plain", in: "finances=export", canonical: "finances=export", feature: "finances", action: "export"},
		{note: "scope", in: "people=read(assigned)", canonical: "people=read(assigned)", feature: "people", action: "read", scopes: []string{"assigned"}},
		{note: "objects with spaces", in: "permset=assign('staffer', 'field-organizer')", canonical: "permset=assign('staffer','field-organizer')", feature: "permset", action: "assign", objects: []string{"staffer", "field-organizer"}},
		{note: "object with punctuation", in: "reports=read('Q3 / EMEA, final')", canonical: "reports=read('Q3 / EMEA, final')", feature: "reports", action: "read", objects: []string{"Q3 / EMEA, final"}},
		{note: "mixed arguments", in: "people=edit(assigned,'p-17')", canonical: "people=edit(assigned,'p-17')", feature: "people", action: "edit", objects: []string{"p-17"}, scopes: []string{"assigned"}},
		{note: "superuser", in: "*=*", canonical: "*=*", feature: "*", action: "*"},
		{note: "every action", in: "people=*", canonical: "people=*", feature: "people", action: "*"},
		{note: "every feature", in: "*=read", canonical: "*=read", feature: "*", action: "read"},
		{note: "scoped wildcard action", in: "people=*(assigned)", canonical: "people=*(assigned)", feature: "people", action: "*", scopes: []string{"assigned"}},
		{note: "digits, dash and underscore", in: "step_2=run-now", canonical: "step_2=run-now", feature: "step_2", action: "run-now"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			p, err := config.ParsePermission(tc.in)
			if err != nil {
				t.Fatalf("ParsePermission(%q): %v", tc.in, err)
			}
			if p.String() != tc.canonical || p.Feature != tc.feature || p.Action != tc.action {
				t.Errorf("got %q (%s, %s), want %q", p.String(), p.Feature, p.Action, tc.canonical)
			}
			if strings.Join(p.Objects(), "|") != strings.Join(tc.objects, "|") || strings.Join(p.Scopes(), "|") != strings.Join(tc.scopes, "|") {
				t.Errorf("objects %v scopes %v, want %v %v", p.Objects(), p.Scopes(), tc.objects, tc.scopes)
			}
			again, err := config.ParsePermission(p.String())
			if err != nil || again.String() != p.String() {
				t.Errorf("canonical form does not parse back: %v", err)
			}
		})
	}
}

func TestParsePermissionErrors(t *testing.T) {
	for _, tc := range []struct{ note, in, want string }{
		{"empty", "", "empty permission at character 1"},
		{"no action", "people", "expected '=' after the feature"},
		{"no action after =", "people=", "expected an action"},
		{"uppercase", "People=read", "expected a feature"},
		{"leading digit", "1x=read", "expected a feature"},
		{"space", "people = read", "expected '=' after the feature"},
		{"open parenthesis", "people=read(", "expected an argument"},
		{"empty arguments", "people=read()", "expected an argument"},
		{"trailing comma", "people=read(a,)", "expected an argument"},
		{"unterminated", "people=read('x", "unterminated quoted argument"},
		{"empty quoted", "people=read('')", "empty quoted argument"},
		{"backslash", `people=read('a\'b')`, "backslashes"},
		{"control character", "people=read('a\tb')", "control characters"},
		{"invalid utf-8", "people=read('\xff')", "invalid UTF-8"},
		{"text after", "people=read(a)b", "unexpected text after ')'"},
		{"wildcard feature arguments", "*=read(assigned)", "a wildcard feature takes no arguments"},
		{"double equals", "a=b=c", "expected '(' or the end"},
		{"too long", "people=" + strings.Repeat("a", 1100), "longer than 1024 characters"},
		{"long identifier", strings.Repeat("a", 64) + "=read", "expected a feature"},
		{"long object", "people=read('" + strings.Repeat("x", 257) + "')", "quoted argument longer than 256"},
		{"too many arguments", "people=read(" + strings.Repeat("a,", 64) + "a)", "more than 64 arguments"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			_, err := config.ParsePermission(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParsePermission(%q) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}
}
