// Package testrun runs the Test documents of a config repository (config.Test) against a
// compiled model: each case is a decision, each effective and whoCan entry a listing, asked of
// the same rules permsd serves, and compared with what the test expects (docs/config.md, Test).
package testrun

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
)

// Statuses of a Result.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Code is the code of a failure, in permsctl test's lines and as plan's deny.
const Code = "test-failed"

// Options tune a run.
type Options struct {
	// Run, when set, runs only the checks whose full name (TEST/CHECK) it matches.
	Run *regexp.Regexp
	// Now is the time of checks without a time of their own; zero means the wall clock.
	Now time.Time
}

// Grant is a set a decision names and how it is held: "direct" or "role:ID".
type Grant struct {
	Set string `json:"set"`
	Via string `json:"via"`
}

// Result is the outcome of one check.
type Result struct {
	// Name is TEST/CHECK; Test and Check its parts.
	Name  string `json:"name"`
	Test  string `json:"test"`
	Check string `json:"check"`
	Kind  string `json:"kind"`
	// Description is the check's name field, free text.
	Description string `json:"description,omitempty"`
	Status      string `json:"status"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	Col         int    `json:"column"`
	// What is what was asked, in words ("alice finances=export on campaign").
	What string `json:"what"`
	// Expected and Got say what the test expected and what the model answered; Message
	// says why a failure failed (or why a check was skipped).
	Expected string `json:"expected,omitempty"`
	Got      string `json:"got,omitempty"`
	Message  string `json:"message,omitempty"`
	// Reason and Grants are the decision's (cases only).
	Reason string  `json:"reason,omitempty"`
	Grants []Grant `json:"grants,omitempty"`
	// Duration is how long the check took.
	Duration time.Duration `json:"-"`

	// touched is what the check's answers named, for coverage.
	touched touch
	user    string
	inst    string
}

// Report is a run's results, in the order of the tests (by id) and of their checks.
type Report struct {
	Results                 []Result `json:"results"`
	Passed, Failed, Skipped int      `json:"-"`
	// Duration is the whole run's.
	Duration time.Duration `json:"-"`
}

// OK reports whether no check failed.
func (r *Report) OK() bool { return r.Failed == 0 }

// Failures returns the failed results.
func (r *Report) Failures() []Result {
	var out []Result
	for _, x := range r.Results {
		if x.Status == Fail {
			out = append(out, x)
		}
	}
	return out
}

// Run runs tests against ev, the evaluator of the model m (for coverage and the instances'
// names). The error is for failures of the evaluation itself (a cancelled context).
func Run(ctx context.Context, ev *engine.Evaluator, tests []*config.Test, opts Options) (*Report, error) {
	start := time.Now()
	rep := &Report{Results: []Result{}}
	for _, t := range tests {
		for _, c := range t.Checks() {
			name := t.FullName(c)
			if opts.Run != nil && !opts.Run.MatchString(name) {
				continue
			}
			r := Result{Name: name, Test: t.ID, Check: c.ID, Kind: c.Kind, Description: c.Name, File: t.Source.File, Line: c.Pos.Line, Col: c.Pos.Col, inst: t.Instance}
			r.What = what(t, c)
			if c.Skip != "" {
				r.Status, r.Message = Skip, c.Skip
				rep.Skipped++
				rep.Results = append(rep.Results, r)
				continue
			}
			t0 := time.Now()
			var err error
			switch c.Kind {
			case config.CheckDecision:
				err = runCase(ctx, ev, t, c, &r, opts)
			case config.CheckEffective:
				err = runEffective(ctx, ev, t, c, &r, opts)
			case config.CheckWhoCan:
				err = runWhoCan(ctx, ev, t, c, &r, opts)
			}
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", r.File, r.Line, name, err)
			}
			r.Duration = time.Since(t0)
			if r.Status == Fail {
				rep.Failed++
			} else {
				r.Status = Pass
				rep.Passed++
			}
			rep.Results = append(rep.Results, r)
		}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// Summary is the line `N passed, N failed` (and skipped, when any were).
func (r *Report) Summary() string {
	s := fmt.Sprintf("%d passed, %d failed", r.Passed, r.Failed)
	if r.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", r.Skipped)
	}
	return s
}

func what(t *config.Test, c *config.TestCheck) string {
	switch c.Kind {
	case config.CheckDecision:
		asked := c.Permission
		if asked == "" {
			asked = c.Method + " " + c.Path
		}
		return fmt.Sprintf("%s %s on %s", c.User, asked, t.Instance)
	case config.CheckEffective:
		return fmt.Sprintf("effective permissions of %s on %s", c.User, t.Instance)
	default:
		return fmt.Sprintf("who can %s on %s", c.Permission, t.Instance)
	}
}

// input is the query input of a check; opts.Now applies to checks without a time.
func input(t *config.Test, c *config.TestCheck) map[string]any {
	in := map[string]any{"instance": t.Instance}
	if c.User != "" {
		in["user"] = c.User
	}
	if c.Permission != "" {
		in["permission"] = c.Permission
	}
	if c.Method != "" {
		in["method"], in["path"] = c.Method, c.Path
	}
	if c.Resource != nil {
		in["resource"] = c.Resource
	}
	if c.Time != nil {
		in["time"] = c.Time.Format(time.RFC3339Nano)
	}
	return in
}

func runCase(ctx context.Context, ev *engine.Evaluator, t *config.Test, c *config.TestCheck, r *Result, opts Options) error {
	v, err := ev.Eval(ctx, "decision", input(t, c), engine.EvalOptions{Now: opts.Now})
	if err != nil {
		return err
	}
	d, _ := v.(map[string]any)
	allowed, _ := d["allow"].(bool)
	r.Reason, _ = d["reason"].(string)
	r.Grants = grantsOf(d["grants"])
	r.user = c.User
	r.touched.add(c.User, t.Instance, c.Permission, r.Grants)
	got := "deny"
	if allowed {
		got = "allow"
	}
	r.Got = got + " (" + describeGrants(r.Grants) + ")"
	var why []string
	if got != c.Expect {
		why = append(why, fmt.Sprintf("expected %s, got %s", c.Expect, got))
	}
	var missing []string
	for _, via := range c.Via {
		if !slices.ContainsFunc(r.Grants, func(g Grant) bool { return g.Set == via || strings.HasPrefix(via, "role:") && g.Via == via }) {
			missing = append(missing, via)
		}
	}
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("expected grants through %s", strings.Join(missing, ", ")))
	}
	if c.Reason != nil && !c.Reason.MatchString(r.Reason) {
		why = append(why, fmt.Sprintf("expected a reason matching %q", c.Reason.String()))
	}
	r.Expected = c.Expect
	if len(c.Via) > 0 {
		r.Expected += " via " + strings.Join(c.Via, ", ")
	}
	if c.Reason != nil {
		r.Expected += fmt.Sprintf(" with a reason matching %q", c.Reason.String())
	}
	if len(why) > 0 {
		r.Status = Fail
		r.Message = strings.Join(why, "; ")
	}
	return nil
}

func runEffective(ctx context.Context, ev *engine.Evaluator, t *config.Test, c *config.TestCheck, r *Result, opts Options) error {
	v, err := ev.Eval(ctx, "effective", input(t, c), engine.EvalOptions{Now: opts.Now})
	if err != nil {
		return err
	}
	d, _ := v.(map[string]any)
	perms := strs(d["permissions"])
	r.user = c.User
	for _, s := range strs(d["sets"]) {
		r.touched.sets = append(r.touched.sets, t.Instance+"/"+s)
	}
	for _, p := range perms {
		r.touched.perms = append(r.touched.perms, t.Instance+" "+p)
	}
	r.touched.users = append(r.touched.users, t.Instance+" "+c.User)
	compareLists(c, perms, r, "permission")
	return nil
}

func runWhoCan(ctx context.Context, ev *engine.Evaluator, t *config.Test, c *config.TestCheck, r *Result, opts Options) error {
	v, err := ev.Eval(ctx, "who_can", input(t, c), engine.EvalOptions{Now: opts.Now})
	if err != nil {
		return err
	}
	entries, _ := v.([]any)
	users := make([]string, 0, len(entries))
	for _, e := range entries {
		m, _ := e.(map[string]any)
		u, _ := m["user"].(string)
		users = append(users, u)
		r.touched.add(u, t.Instance, c.Permission, grantsOf(m["grants"]))
	}
	slices.Sort(users)
	compareLists(c, users, r, "user")
	return nil
}

// compareLists judges a listing (sorted) against exactly, includes and excludes.
func compareLists(c *config.TestCheck, got []string, r *Result, noun string) {
	r.Got = "[" + strings.Join(got, ", ") + "]"
	var why, exp []string
	if c.Exact {
		want := slices.Clone(c.Exactly)
		slices.Sort(want)
		exp = append(exp, "exactly ["+strings.Join(want, ", ")+"]")
		if extra := minus(got, want); len(extra) > 0 {
			why = append(why, fmt.Sprintf("unexpected %s %s", plural(noun, len(extra)), strings.Join(extra, ", ")))
		}
		if lack := minus(want, got); len(lack) > 0 {
			why = append(why, fmt.Sprintf("missing %s %s", plural(noun, len(lack)), strings.Join(lack, ", ")))
		}
	}
	if len(c.Includes) > 0 {
		exp = append(exp, "including ["+strings.Join(c.Includes, ", ")+"]")
		if lack := minus(c.Includes, got); len(lack) > 0 {
			why = append(why, fmt.Sprintf("missing %s %s", plural(noun, len(lack)), strings.Join(lack, ", ")))
		}
	}
	if len(c.Excludes) > 0 {
		exp = append(exp, "excluding ["+strings.Join(c.Excludes, ", ")+"]")
		if bad := minus(c.Excludes, minus(c.Excludes, got)); len(bad) > 0 {
			why = append(why, fmt.Sprintf("unexpected %s %s", plural(noun, len(bad)), strings.Join(bad, ", ")))
		}
	}
	r.Expected = strings.Join(exp, ", ")
	if len(why) > 0 {
		r.Status = Fail
		r.Message = strings.Join(why, "; ")
	}
}

func plural(noun string, n int) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// minus is the entries of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func grantsOf(v any) []Grant {
	l, _ := v.([]any)
	out := make([]Grant, 0, len(l))
	for _, x := range l {
		m, _ := x.(map[string]any)
		set, _ := m["set"].(string)
		via, _ := m["via"].(string)
		out = append(out, Grant{Set: set, Via: via})
	}
	return out
}

func describeGrants(gs []Grant) string {
	if len(gs) == 0 {
		return "no grants"
	}
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = g.Set + " (" + g.Via + ")"
	}
	return "grants: " + strings.Join(parts, ", ")
}
