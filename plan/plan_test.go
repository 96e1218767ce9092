package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/sorted"
	"github.com/permsets/permsets/internal/testutil"
)

func load(t *testing.T, dir string) *config.Model {
	t.Helper()
	res, err := config.LoadDir(context.Background(), dir, config.Options{})
	if err != nil || !res.OK() {
		t.Fatalf("load %s: %v %v", dir, err, res.Problems)
	}
	return res.Model
}

// TestAffectedUsers: who a change can touch, field by field.
func TestAffectedUsers(t *testing.T) {
	base := load(t, "../examples/nation")
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		users  []string
		all    bool
	}{
		{"a user added to an assignment", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "assignments/finance.yaml", "users: [tomas]", "users: [tomas, kwame]")
		}, []string{"kwame"}, false},
		{"what an assignment gives", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "assignments/finance.yaml", "permissionSets: [bookkeeper]", "permissionSets: [bookkeeper, finance]")
		}, []string{"tomas"}, false},
		{"an assignment's reason", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "assignments/finance.yaml", "reason: Campaign treasurer", "reason: Treasurer")
		}, nil, false},
		{"a set's display name", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "name: Bookkeeper", "name: Books")
		}, nil, false},
		{"a set's permissions", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "  - people=read\n", "")
		}, []string{"tomas"}, false},
		{"a role's members", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "roles/organizers.yaml", "members: [sam, lena]", "members: [sam, priya]")
		}, []string{"lena", "priya"}, false},
		{"a catalog description", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "catalog.yaml", "description: ", "description: The ")
		}, nil, false},
		{"the catalog's requirements", func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "catalog.yaml", "api=edit: [settings=read]\n", "")
		}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testutil.CopyTree(t, "../examples/nation")
			tc.change(t, dir)
			head := load(t, dir)
			users, all := affectedUsers(base, head, config.Diff(base, head))
			if all != tc.all || !slices.Equal(sorted.Keys(users), tc.users) && !(len(users) == 0 && tc.users == nil) {
				t.Errorf("affected %v (all %v), want %v (all %v)", sorted.Keys(users), all, tc.users, tc.all)
			}
		})
	}
}

// TestHoldingSignatures: the same holdings give the same signature; any change to what the
// rules read of them gives another.
func TestHoldingSignatures(t *testing.T) {
	base := load(t, "../examples/nation")
	dir := testutil.CopyTree(t, "../examples/nation")
	testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "  - people=read\n", "")
	head := load(t, dir)
	users := map[string]bool{"tomas": true, "alice": true}
	b, a := holdingSignatures(base, users, false), holdingSignatures(head, users, false)
	if b["alice\x00campaign"] == "" || b["alice\x00campaign"] != a["alice\x00campaign"] {
		t.Errorf("alice's unchanged holdings: %q vs %q", b["alice\x00campaign"], a["alice\x00campaign"])
	}
	if b["tomas\x00campaign"] == a["tomas\x00campaign"] {
		t.Errorf("tomas's bookkeeper changed, the signature did not: %q", a["tomas\x00campaign"])
	}
	if _, ok := a["lena\x00campaign"]; ok {
		t.Errorf("lena was not asked for")
	}
}

// TestMarkdownEscapesConfigText: text from the config cannot become markup or HTML in the
// pull-request comment.
func TestMarkdownEscapesConfigText(t *testing.T) {
	p := &Plan{Deny: []Finding{{Code: "invalid", File: "a|b.yaml", Line: 1, Message: "<script>alert(1)</script> **bold** [link](http://x) `code`"}}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, p); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script>", "**bold**", "[link](", "a|b"} {
		if strings.Contains(out, bad) {
			t.Errorf("markdown keeps %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "&lt;script&gt;") {
		t.Errorf("markdown lost the text:\n%s", out)
	}
}

// TestComputeRefusesAnInvalidBase: a base that does not validate cannot be planned against.
func TestComputeRefusesAnInvalidBase(t *testing.T) {
	base := &Revision{Side: Side{Ref: "live"}, Problems: []config.Problem{{File: "x.yaml", Pos: config.Pos{Line: 1, Col: 1}, Code: "unknown-kind", Message: "no"}}}
	if _, err := Compute(context.Background(), base, &Revision{}, Options{}); err == nil || !strings.Contains(err.Error(), "x.yaml:1") {
		t.Errorf("err %v", err)
	}
}

// TestMarkdownBoundsLongLists: a plan with thousands of access changes still makes a comment a
// forge accepts, and says what it left out.
func TestMarkdownBoundsLongLists(t *testing.T) {
	p := &Plan{}
	for i := range 5000 {
		p.Access = append(p.Access, AccessChange{User: "u" + strings.Repeat("x", i%7), Instance: "i", Gained: []Access{{Permission: "a=b", Grants: []Grant{{Set: "s", Via: "direct"}}}}})
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, p); err != nil {
		t.Fatal(err)
	}
	if b.Len() > 60000 || !strings.Contains(b.String(), "and 4700 more lines") {
		t.Errorf("comment of %d bytes:\n%s", b.Len(), b.String()[max(0, b.Len()-300):])
	}
}

// TestSideDocumentSharesTheAccessDiffIndex: the side document read from the index the access
// diff compiled (a model reduced to some users' holdings, or whole) is the one an own
// compilation of the catalog and sets gives, for every example.
func TestSideDocumentSharesTheAccessDiffIndex(t *testing.T) {
	for _, ex := range []string{"nation", "portal", "api", "workflows"} {
		m := load(t, "../examples/"+ex)
		touched := map[string]bool{}
		for _, s := range m.Sets {
			touched[s.ID] = true
		}
		want, err := sideDocument(m, touched, nil)
		if err != nil {
			t.Fatal(err)
		}
		users := map[string]bool{}
		if len(m.Assignments) > 0 && len(m.Assignments[0].Users) > 0 {
			users[m.Assignments[0].Users[0]] = true
		}
		for _, all := range []bool{false, true} {
			_, idx, err := reducedEvaluator(context.Background(), m, users, all)
			if err != nil || idx == nil {
				t.Fatalf("%s: %v", ex, err)
			}
			got, err := sideDocument(m, touched, idx)
			if err != nil {
				t.Fatal(err)
			}
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			if !bytes.Equal(g, w) {
				t.Errorf("%s (all %t): the side document differs:\n%s\nwant\n%s", ex, all, g, w)
			}
		}
	}
}
