package plan

import (
	"context"
	"fmt"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/testrun"
)

// testFindings runs the Test documents of the base and of the head against the head's model
// (docs/plan.md, test-failed): each failure is a deny. The base's tests run as the base's custom
// rules do, so a pull request cannot delete or weaken the test it breaks. An invalid head runs
// none (its problems are denies already); neither does a plan where no side has tests.
func testFindings(ctx context.Context, base, head *Revision, now time.Time) ([]Finding, error) {
	if len(head.Problems) > 0 || head.Model == nil {
		return nil, nil
	}
	var baseTests []*config.Test
	if base.Model != nil {
		baseTests = base.Model.Tests
	}
	if len(baseTests) == 0 && len(head.Model.Tests) == 0 {
		return nil, nil
	}
	b, err := engine.NewBundle(head.Model, "")
	if err != nil {
		return nil, fmt.Errorf("tests: %w", err)
	}
	ev, err := engine.NewEvaluator(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("tests: %w", err)
	}
	opts := testrun.Options{Now: now}
	var out []Finding
	seen := map[string]bool{}
	for _, side := range []struct {
		tests []*config.Test
		note  string
	}{{head.Model.Tests, ""}, {baseTests, fmt.Sprintf(" (the test as in the base, %s)", base.Ref)}} {
		rep, err := testrun.Run(ctx, ev, side.tests, opts)
		if err != nil {
			return nil, fmt.Errorf("tests: %w", err)
		}
		for _, r := range rep.Failures() {
			f := TestFinding(r)
			key := f.File + "\x00" + fmt.Sprint(f.Line) + "\x00" + f.Message
			if seen[key] {
				continue // the same test, unchanged, fails in both
			}
			seen[key] = true
			f.Message += side.note
			out = append(out, f)
		}
	}
	return out, nil
}

// TestFinding is a failed check as a plan's deny.
func TestFinding(r testrun.Result) Finding {
	msg := fmt.Sprintf("%s: %s: %s (expected %s; got %s", r.Name, r.What, r.Message, r.Expected, r.Got)
	if r.Reason != "" {
		msg += ": " + r.Reason
	}
	return Finding{Code: testrun.Code, Object: config.KindTest + "/" + r.Test, File: r.File, Line: r.Line, Message: msg + ")"}
}
