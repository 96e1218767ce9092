package main

import (
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/permsets/permsets/internal/testutil"
)

// TestJUnitParses: test, validate and plan --format junit write XML that parses as JUnit, with
// the counts of its cases, whatever control characters and markup the config holds.
func TestJUnitParses(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFile(t, dir, "i.yaml", "apiVersion: permsets/v1\nkind: Instance\nid: prod\nname: Production\n")
	testutil.WriteFile(t, dir, "tests/t.yaml", "apiVersion: permsets/v1\nkind: Test\nid: t\ninstance: prod\ncases:\n"+
		"  - {user: ann, permission: people=read, expect: deny}\n"+
		"  - {user: ann, permission: people=read, expect: allow, name: \"</failure>]]>&\\x01\\x1b\"}\n"+
		"  - {user: ann, permission: people=read, expect: allow, skip: \"<later> \\x00\"}\n")
	type junit struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Line    int    `xml:"line,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	for _, tc := range []struct {
		note                     string
		args                     []string
		code                     int
		tests, failures, skipped int
	}{
		{"test", []string{"-C", dir, "test", "--format", "junit"}, exitProblems, 3, 1, 1},
		{"validate", []string{"-C", dir, "validate", "--format", "junit"}, exitOK, 1, 0, 0},
		{"plan", []string{"-C", dir, "plan", "--base", "empty", "--format", "junit"}, exitProblems, 1, 1, 0},
	} {
		t.Run(tc.note, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			var j junit
			if err := xml.Unmarshal([]byte(out), &j); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if j.Tests != tc.tests || j.Failures != tc.failures || j.Skipped != tc.skipped || len(j.Suites) != 1 || len(j.Suites[0].Cases) != tc.tests {
				t.Errorf("%+v", j)
			}
			if strings.ContainsAny(out, "\x00\x01\x1b") {
				t.Errorf("control characters in the XML:\n%q", out)
			}
		})
	}
}

// TestTestJSONMatchesSchema: test --format json matches schemas/test-report.schema.json for a
// passing run with coverage, a failing run, and an invalid config.
func TestTestJSONMatchesSchema(t *testing.T) {
	schema := compileSchema(t, "test-report.schema.json")
	bad := t.TempDir()
	testutil.WriteFile(t, bad, "i.yaml", "apiVersion: permsets/v1\nkind: Instance\nid: prod\nname: Production\n")
	testutil.WriteFile(t, bad, "tests/t.yaml", "apiVersion: permsets/v1\nkind: Test\nid: t\ninstance: prod\ncases:\n"+
		"  - {user: ann, permission: people=read, expect: allow, via: [x]}\n"+
		"  - {user: ann, permission: people=read, expect: allow, skip: later}\n"+
		"effective:\n  - {user: ann, permissions: [people=read]}\nwhoCan:\n  - {permission: people=read, users: [ann]}\n")
	invalid := t.TempDir()
	testutil.WriteFile(t, invalid, "i.yaml", "apiVersion: permsets/v1\nkind: Instance\nid: Prod!\n")
	for _, tc := range []struct {
		note string
		args []string
		code int
	}{
		{"nation with coverage", []string{"test", "../../examples/nation", "--format", "json", "--coverage"}, exitOK},
		{"failures", []string{"test", bad, "--format", "json"}, exitProblems},
		{"invalid config", []string{"test", invalid, "--format", "json"}, exitProblems},
	} {
		t.Run(tc.note, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			var doc any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if err := schema.Validate(doc); err != nil {
				t.Errorf("output does not match schemas/test-report.schema.json: %#v\n%s", err, out)
			}
		})
	}
}
