package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// KindTest is the kind of a document of decision tests (docs/config.md, Test).
const KindTest = "Test"

// MaxTestChecks is the most cases, effective and whoCan checks a repository's tests may hold
// together: each is one evaluation, and a plan runs the base's and the head's.
const MaxTestChecks = 20_000

// CodeInvalidTest is a Test document whose content does not make sense beyond its schema: a
// reason that is not a regular expression, a case id given twice.
const CodeInvalidTest = "invalid-test"

// CodeTooManyTests is a repository whose tests hold more than MaxTestChecks checks.
const CodeTooManyTests = "too-many-tests"

// Test is one Test document: decisions, effective permissions and who-can answers the owners
// expect of the model on one instance.
type Test struct {
	ID          string       `json:"id"`
	Instance    string       `json:"instance"`
	Description string       `json:"description,omitempty"`
	Time        *time.Time   `json:"time,omitempty"`
	Cases       []*TestCheck `json:"cases"`
	Effective   []*TestCheck `json:"effective"`
	WhoCan      []*TestCheck `json:"whoCan"`
	Source      Source       `json:"-"`
	At          TestPos      `json:"-"`
}

// TestPos holds the positions of a test's fields.
type TestPos struct {
	ID, Instance Pos
}

// Kinds of TestCheck.
const (
	CheckDecision  = "case"
	CheckEffective = "effective"
	CheckWhoCan    = "who-can"
)

// TestCheck is one entry of a Test's cases, effective or whoCan lists. Which fields apply
// depends on Kind.
type TestCheck struct {
	Kind string `json:"kind"`
	// ID is the entry's id, or its kind and number from 1 (case-2, effective-1, who-can-3).
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// User asks (case) or is listed (effective); Permission is asked (case, who-can).
	User       string         `json:"user,omitempty"`
	Permission string         `json:"permission,omitempty"`
	Method     string         `json:"method,omitempty"`
	Path       string         `json:"path,omitempty"`
	Resource   map[string]any `json:"resource,omitempty"`
	// Time is the entry's own time, else the test's; nil: the time of the run.
	Time *time.Time `json:"time,omitempty"`
	// Expect is allow or deny (case); Via the sets and role:IDs the grants must name; Reason
	// a regular expression the reason must match.
	Expect string         `json:"expect,omitempty"`
	Via    []string       `json:"via,omitempty"`
	Reason *regexp.Regexp `json:"-"`
	// Exactly, Includes and Excludes are the permissions (effective) or users (who-can)
	// expected; Exact says that Exactly was given (an empty list is a claim too).
	Exact    bool     `json:"exact,omitempty"`
	Exactly  []string `json:"exactly,omitempty"`
	Includes []string `json:"includes,omitempty"`
	Excludes []string `json:"excludes,omitempty"`
	// Skip is why the entry is skipped; "" runs it.
	Skip string `json:"skip,omitempty"`
	Pos  Pos    `json:"-"`
}

// FullName is TEST/CHECK, the name --run matches.
func (t *Test) FullName(c *TestCheck) string { return t.ID + "/" + c.ID }

// Checks returns every entry of the test, in document order of kind: cases, effective, whoCan.
func (t *Test) Checks() []*TestCheck {
	out := make([]*TestCheck, 0, len(t.Cases)+len(t.Effective)+len(t.WhoCan))
	out = append(out, t.Cases...)
	out = append(out, t.Effective...)
	return append(out, t.WhoCan...)
}

// test decodes a schema-valid Test document.
func (r *reader) test() *Test {
	t := &Test{}
	t.ID, t.At.ID = r.str("id")
	t.Instance, t.At.Instance = r.str("instance")
	t.Description, _ = r.str("description")
	at := map[string]Pos{}
	indexPositions(r.root, "", at, 0)
	parseTime := func(raw any, ptr string) *time.Time {
		s, _ := raw.(string)
		if s == "" {
			return nil
		}
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			r.ps.add(at[ptr], CodeInvalidDate, "time %q is not an RFC 3339 date and time (like 2026-12-01T00:00:00Z)", s)
			return nil
		}
		tm = tm.UTC()
		return &tm
	}
	t.Time = parseTime(r.obj["time"], "/time")
	ids := map[string]Pos{}
	for _, list := range []struct {
		key, kind string
		dst       *[]*TestCheck
	}{{"cases", CheckDecision, &t.Cases}, {"effective", CheckEffective, &t.Effective}, {"whoCan", CheckWhoCan, &t.WhoCan}} {
		raw, _ := r.obj[list.key].([]any)
		*list.dst = make([]*TestCheck, 0, len(raw))
		for i, x := range raw {
			m, _ := x.(map[string]any)
			ptr := fmt.Sprintf("/%s/%d", list.key, i)
			c := &TestCheck{Kind: list.kind, Pos: at[ptr], ID: asString(m["id"]), Name: asString(m["name"]),
				User: asString(m["user"]), Permission: asString(m["permission"]), Method: asString(m["method"]),
				Path: asString(m["path"]), Expect: asString(m["expect"]), Via: asStrings(m["via"]),
				Includes: asStrings(m["includes"]), Excludes: asStrings(m["excludes"]), Skip: asString(m["skip"])}
			if c.ID == "" {
				c.ID = fmt.Sprintf("%s-%d", list.kind, i+1)
			} else if first, ok := ids[c.ID]; ok {
				r.ps.add(at[ptr+"/id"], CodeInvalidTest, "id %q is already used in this test, at line %d", c.ID, first.Line)
			}
			ids[c.ID] = at[ptr+"/id"]
			if res, ok := m["resource"].(map[string]any); ok {
				c.Resource = res
			}
			c.Time = parseTime(m["time"], ptr+"/time")
			if c.Time == nil {
				c.Time = t.Time
			}
			exact := "permissions"
			if list.kind == CheckWhoCan {
				exact = "users"
			}
			if v, ok := m[exact]; ok {
				c.Exact, c.Exactly = true, asStrings(v)
			}
			if raw := asString(m["reason"]); raw != "" {
				re, err := regexp.Compile(raw)
				if err != nil {
					r.ps.add(at[ptr+"/reason"], CodeInvalidTest, "reason is not a regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
				}
				c.Reason = re
			}
			perms := map[string]string{"/permission": c.Permission}
			if list.kind == CheckEffective {
				for _, key := range []string{"permissions", "includes", "excludes"} {
					for j, p := range asStrings(m[key]) {
						perms[fmt.Sprintf("/%s/%d", key, j)] = p
					}
				}
			}
			for sub, p := range perms {
				if p == "" {
					continue
				}
				if _, err := ParsePermission(p); err != nil {
					r.ps.add(at[ptr+sub], CodeInvalidPermission, "%v", err)
				}
			}
			*list.dst = append(*list.dst, c)
		}
	}
	return t
}

// checkTests checks what the tests name across documents: duplicate ids, the instance, and
// the repository's budget of checks. Users and sets a test names need not exist: a test may
// say that a removed user is denied.
func (a *assembler) checkTests() {
	seen := map[string]*Test{}
	total := 0
	for _, t := range a.m.Tests {
		if first, ok := seen[t.ID]; ok {
			a.add(t.Source.File, t.At.ID, CodeDuplicateID, "test %q is already declared at %s:%d", t.ID, first.Source.File, first.Source.Line)
			continue
		}
		seen[t.ID] = t
		a.checkInstance(t.Source.File, t.At.Instance, t.Instance)
		if total += len(t.Cases) + len(t.Effective) + len(t.WhoCan); total > MaxTestChecks {
			a.add(t.Source.File, t.At.ID, CodeTooManyTests, "the tests up to this one hold %d checks, over the limit of %d for a repository", total, MaxTestChecks)
			return
		}
	}
}
