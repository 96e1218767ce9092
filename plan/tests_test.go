package plan

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/testrun"
)

// TestExampleTestsDeny: for every example, a change that breaks one of its tests is denied
// (test-failed), a plan of the example against itself is not, and a test the change deletes
// still runs from the base.
func TestExampleTestsDeny(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		example string
		change  func(t *testing.T, dir string)
		want    string // a deny's object and the start of its message
	}{
		{"nation", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "sets/campaign/finance.yaml", "  - finances=export\n", "")
			if err := os.Remove(filepath.Join(dir, "tests/finance.yaml")); err != nil {
				t.Fatal(err)
			}
		}, "Test/finance-export finance-export/case-1: alice finances=export on campaign: expected allow, got deny"},
		{"api", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "assignments/production.yaml", "permissionSets: [read-only]", "permissionSets: [read-only, data-deletion]")
		}, "Test/endpoints endpoints/case-1: marco DELETE /users/42 on production: expected deny, got allow"},
		{"portal", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "assignments/a.yaml", "permissionSets: [execute-scripts]", "permissionSets: [execute-scripts, admin]")
		}, "Test/site-a site-a/who-can-1: who can reports=export on a: unexpected user tom"},
		{"workflows", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "assignments/contractors.yaml", "permissionSets: [log-new-incident]", "permissionSets: [log-new-incident, approve-purchase]")
		}, "Test/approvals approvals/who-can-1: who can purchases=approve on acme: unexpected user pat"},
		{"authzen", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "assignments/records.yaml", "permissionSets: [record-reader]", "permissionSets: [record-reader, record-editor]")
		}, "Test/records records/case-5: bob record=write on records: expected deny, got allow"},
		{"ci", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "assignments/owner.yaml", "permissionSets: [admin]", "permissionSets: [staffer]")
		}, "Test/access access/case-1: owner settings=edit on prod: expected allow, got deny"},
	} {
		t.Run(tc.example, func(t *testing.T) {
			src := "../examples/" + tc.example
			base := &Revision{Side: Side{Ref: "live"}, Model: load(t, src)}
			same, err := Compute(context.Background(), base, &Revision{Side: Side{Ref: "working tree"}, Model: load(t, src)}, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range same.Deny {
				if d.Code == testrun.Code {
					t.Errorf("unchanged: %+v", d)
				}
			}
			dir := testutil.CopyTree(t, src)
			tc.change(t, dir)
			p, err := Compute(context.Background(), base, &Revision{Side: Side{Ref: "working tree"}, Model: load(t, dir)}, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range p.Deny {
				if d.Code == testrun.Code {
					got = append(got, d.Object+" "+d.Message)
					if d.File == "" || d.Line == 0 {
						t.Errorf("no place: %+v", d)
					}
				}
			}
			found := false
			for _, g := range got {
				found = found || strings.HasPrefix(g, tc.want)
			}
			if !found {
				t.Errorf("test-failed denies:\n%s\nwant one starting %q", strings.Join(got, "\n"), tc.want)
			}
			if tc.example == "nation" && !strings.Contains(got[0], "(the test as in the base, live)") {
				t.Errorf("a deleted test's failure does not say it is the base's: %s", got[0])
			}
		})
	}
}
