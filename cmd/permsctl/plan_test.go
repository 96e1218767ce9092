package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/plan"
)

// liveRepo copies examples/nation into a new Git repository (made with go-git), commits it and
// points the branch live at that commit: the base of the plans below. The config root is the
// subdirectory access/, as in a monorepo.
func liveRepo(t *testing.T) (top, dir string) { return liveRepoWith(t, nil) }

// liveRepoWith is liveRepo with the example changed by base before it is committed.
func liveRepoWith(t *testing.T, base func(t *testing.T, dir string)) (top, dir string) {
	return liveRepoTests(t, base, true)
}

// rulesRepoWith is liveRepoWith without the example's tests/: for the scenarios of the change
// rules, which many of the changes break (test-failed has scenarios of its own).
func rulesRepoWith(t *testing.T, base func(t *testing.T, dir string)) (top, dir string) {
	return liveRepoTests(t, base, false)
}

func liveRepoTests(t *testing.T, base func(t *testing.T, dir string), tests bool) (top, dir string) {
	t.Helper()
	top = t.TempDir()
	src := testutil.CopyTree(t, "../../examples/nation")
	dir = filepath.Join(top, "access")
	if err := os.Rename(src, dir); err != nil {
		t.Fatal(err)
	}
	if !tests {
		if err := os.RemoveAll(filepath.Join(dir, "tests")); err != nil {
			t.Fatal(err)
		}
	}
	if base != nil {
		base(t, dir)
	}
	testutil.WriteFile(t, top, "README.md", "a monorepo\n")
	repo, err := git.PlainInit(top, false)
	if err != nil {
		t.Fatal(err)
	}
	commitAll(t, repo, "first")
	head, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("live"), head.Hash())); err != nil {
		t.Fatal(err)
	}
	return top, dir
}

func commitAll(t *testing.T, repo *git.Repository, msg string) {
	t.Helper()
	testutil.CommitAll(t, repo, msg, &object.Signature{Name: "Test", Email: "test@example.org", When: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)})
}

func removeFile(t *testing.T, dir, rel string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

// runPlanCLI runs permsctl plan in dir and returns the exit code, stdout and stderr.
func runPlanCLI(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runWith(append([]string{"-C", dir, "plan"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func codes(fs []plan.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Code)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestPlanScenarios: one change per rule, from the products we model, planned against live.
func TestPlanScenarios(t *testing.T) {
	const extraSet = `apiVersion: permsets/v1
kind: PermissionSet
id: %s
instances: [%s]
name: %s
permissions: [people=read]
`
	for _, tc := range []struct {
		name     string
		base     func(t *testing.T, dir string) // the live revision, when not the example itself
		change   func(t *testing.T, dir string)
		exit     int // with --detailed-exitcode
		deny     []string
		warn     []string
		contains []string // in the text output
	}{
		{
			name:     "no change",
			change:   func(*testing.T, string) {},
			exit:     0,
			contains: []string{"No changes.", "Plan: 0 to add, 0 to change, 0 to remove; 0 users gain access, 0 lose access"},
		},
		{
			name: "delete a set still assigned",
			change: func(t *testing.T, dir string) {
				removeFile(t, dir, "sets/campaign/bookkeeper.yaml")
			},
			exit: 1,
			deny: []string{"set-in-use"},
			contains: []string{"- PermissionSet bookkeeper (sets/campaign/bookkeeper.yaml:5)", "tomas", "campaign-bookkeeping",
				"- tomas@campaign finances=edit via bookkeeper (direct)"},
		},
		{
			name: "remove the assignments and the set in one change",
			change: func(t *testing.T, dir string) {
				removeFile(t, dir, "sets/campaign/bookkeeper.yaml")
				testutil.Replace(t, dir, "assignments/finance.yaml", "---\n# yaml-language-server: $schema=../../../schemas/assignment.schema.json\napiVersion: permsets/v1\nkind: Assignment\nid: campaign-bookkeeping\ninstance: campaign\nusers: [tomas]\npermissionSets: [bookkeeper]\nreason: Campaign treasurer\n", "")
			},
			exit:     2,
			contains: []string{"- Assignment campaign-bookkeeping", "- tomas@campaign finances=edit via bookkeeper (direct)", "1 lose access"},
		},
		{
			name: "edit the fixed admin set",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/hq/admin.yaml", "name: Admin", "name: Administrators")
			},
			exit: 1,
			deny: []string{"fixed-set", "set-not-editable"},
		},
		{
			name: "add a new instance to the admin set",
			change: func(t *testing.T, dir string) {
				testutil.WriteFile(t, dir, "instances/field.yaml", "apiVersion: permsets/v1\nkind: Instance\nid: field\nname: Field office\npackage: standard\n")
				testutil.Replace(t, dir, "sets/hq/admin.yaml", "instances: [hq, campaign]", "instances: [hq, campaign, field]")
			},
			exit:     2,
			contains: []string{"+ Instance field", "~ PermissionSet admin", "instances: +field"},
		},
		{
			name: "a sixth custom set on a standard instance",
			change: func(t *testing.T, dir string) {
				testutil.WriteFile(t, dir, "sets/campaign/canvasser.yaml", fmt.Sprintf(extraSet, "canvasser", "campaign", "Canvasser"))
			},
			exit: 1,
			deny: []string{"custom-set-limit"},
			warn: []string{"unassigned-set"},
		},
		{
			name: "a new set on a Leader instance",
			change: func(t *testing.T, dir string) {
				testutil.WriteFile(t, dir, "sets/hq/reader.yaml", fmt.Sprintf(extraSet, "reader", "hq", "Reader"))
			},
			exit: 1,
			deny: []string{"set-not-editable"},
			warn: []string{"unassigned-set"},
		},
		{
			name: "edit a set other than staffer on the Leader instance",
			base: func(t *testing.T, dir string) {
				testutil.WriteFile(t, dir, "sets/hq/reader.yaml", fmt.Sprintf(extraSet, "reader", "hq", "Reader"))
				testutil.Replace(t, dir, "assignments/hq-staff.yaml", "permissionSets: [", "permissionSets: [reader, ")
			},
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/hq/reader.yaml", "permissions: [people=read]", "permissions: [people=read, website=read]")
			},
			exit: 1,
			deny: []string{"set-not-editable"},
		},
		{
			name: "edit staffer on the Leader instance",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/hq/staffer.yaml", "  - finances=read\n", "")
			},
			exit:     2,
			contains: []string{"~ PermissionSet staffer", "finances=read via staffer"},
		},
		{
			name: "assign a disabled set",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/campaign/communications.yaml", "permissions:", "enabled: false\npermissions:")
				testutil.WriteFile(t, dir, "assignments/press.yaml", "apiVersion: permsets/v1\nkind: Assignment\nid: press\ninstance: campaign\nusers: [kwame]\npermissionSets: [communications]\n")
			},
			exit: 1,
			deny: []string{"disabled-set-assigned"},
		},
		{
			name: "newly hold both sides of a separation of duties",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "assignments/finance.yaml", "users: [tomas]\npermissionSets: [bookkeeper]", "users: [tomas]\npermissionSets: [bookkeeper, finance]")
			},
			exit:     1,
			deny:     []string{"separation-of-duties"},
			contains: []string{"+ tomas@campaign finances=export via finance (direct)"},
		},
		{
			name: "remove the catalog",
			change: func(t *testing.T, dir string) {
				removeFile(t, dir, "catalog.yaml")
			},
			exit: 1,
			deny: []string{"catalog-removed"},
		},
		{
			name: "rename a set's display name",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "name: Bookkeeper", "name: Treasurer's aide")
			},
			exit:     2,
			contains: []string{`name: "Bookkeeper" -> "Treasurer's aide"`, "0 users gain access, 0 lose access"},
		},
		{
			name: "an invalid head",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "assignments/finance.yaml", "users: [tomas]", "users: [tomas, nobody-declared]")
			},
			exit: 1,
			deny: []string{"invalid"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, dir := rulesRepoWith(t, tc.base)
			tc.change(t, dir)
			code, out, errOut := runPlanCLI(t, dir, "--format", "json", "--detailed-exitcode")
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.exit, out, errOut)
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatalf("plan JSON: %v\n%s", err, out)
			}
			if got := codes(p.Deny); !slices.Equal(got, tc.deny) {
				t.Errorf("deny %v, want %v: %+v", got, tc.deny, p.Deny)
			}
			if got := codes(p.Warn); !slices.Equal(got, tc.warn) {
				t.Errorf("warn %v, want %v: %+v", got, tc.warn, p.Warn)
			}
			for _, f := range append(p.Deny, p.Warn...) {
				if f.File == "" || f.Message == "" || (f.Code != "invalid" && f.Object == "") {
					t.Errorf("finding without object, file or message: %+v", f)
				}
			}
			_, text, _ := runPlanCLI(t, dir)
			for _, want := range tc.contains {
				if !strings.Contains(text, want) {
					t.Errorf("text output lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

// TestPlanSetInUseNamesHolders: the set-in-use message says who still holds the set, through
// which assignment, and where.
func TestPlanSetInUseNamesHolders(t *testing.T) {
	_, dir := liveRepo(t)
	removeFile(t, dir, "sets/campaign/bookkeeper.yaml")
	_, out, _ := runPlanCLI(t, dir, "--format", "json")
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Deny) != 1 {
		t.Fatalf("deny %+v, want one set-in-use (the dangling reference is not reported again)", p.Deny)
	}
	d := p.Deny[0]
	for _, want := range []string{"bookkeeper", "campaign-bookkeeping", "assignments/finance.yaml", "tomas"} {
		if !strings.Contains(d.Message, want) {
			t.Errorf("message lacks %q: %s", want, d.Message)
		}
	}
	if d.Object != "PermissionSet/bookkeeper" || d.File != "sets/campaign/bookkeeper.yaml" {
		t.Errorf("finding %+v", d)
	}
}

// TestPlanBase: the default base is live, else a remote's live, else an error that says what to
// do; --base empty and --base DIR work too.
func TestPlanBase(t *testing.T) {
	top, dir := liveRepo(t)
	repo, err := git.PlainOpen(top)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := repo.Head()
	// Only a remote's live.
	if err := repo.Storer.RemoveReference(plumbing.NewBranchReferenceName("live")); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runPlanCLI(t, dir); code != exitProblems || !strings.Contains(errOut, "no live branch") || !strings.Contains(errOut, "--base empty") {
		t.Errorf("without live: exit %d, stderr %s", code, errOut)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewRemoteReferenceName("origin", "live"), head.Hash())); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runPlanCLI(t, dir)
	if code != 0 || !strings.Contains(out, "Base: refs/remotes/origin/live (commit ") {
		t.Errorf("with origin/live: exit %d\n%s%s", code, out, errOut)
	}
	// --base empty: everything is added.
	code, out, _ = runPlanCLI(t, dir, "--base", "empty", "--detailed-exitcode")
	if code != exitChanges || !strings.Contains(out, "Base: empty") || !strings.Contains(out, "+ Catalog catalog") {
		t.Errorf("--base empty: exit %d\n%s", code, out)
	}
	// --base DIR.
	other := testutil.CopyTree(t, "../../examples/nation")
	testutil.Replace(t, other, "sets/campaign/bookkeeper.yaml", "name: Bookkeeper", "name: Book keeper")
	code, out, _ = runPlanCLI(t, dir, "--base", other, "--detailed-exitcode")
	if code != exitChanges || !strings.Contains(out, "~ PermissionSet bookkeeper") {
		t.Errorf("--base DIR: exit %d\n%s", code, out)
	}
	// An unknown revision.
	if code, _, errOut := runPlanCLI(t, dir, "--base", "nope"); code != exitProblems || !strings.Contains(errOut, `unknown revision "nope"`) {
		t.Errorf("--base nope: exit %d, %s", code, errOut)
	}
	// Not in a Git repository at all.
	if code, _, errOut := runPlanCLI(t, other); code != exitProblems || !strings.Contains(errOut, "not in a git repository") {
		t.Errorf("outside git: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runPlanCLI(t, dir, "--format", "yaml"); code != exitUsage {
		t.Errorf("--format yaml: exit %d, %s", code, errOut)
	}
}

// TestPlanGolden: the three formats of one plan, against golden files (UPDATE_GOLDEN=1 writes
// them). Digests and commits are replaced, as they change with the rules and the engine.
func TestPlanGolden(t *testing.T) {
	_, dir := liveRepo(t)
	testutil.Replace(t, dir, "assignments/finance.yaml", "users: [tomas]\npermissionSets: [bookkeeper]", "users: [tomas]\npermissionSets: [bookkeeper, finance]")
	testutil.Replace(t, dir, "sets/hq/staffer.yaml", "  - finances=read\n", "")
	testutil.WriteFile(t, dir, "sets/campaign/door-knocker.yaml", fmt.Sprintf(extraSetForGolden, "door-knocker", "campaign", "Door knocker"))
	planFile := filepath.Join(t.TempDir(), "plan.json")
	for _, format := range []string{"text", "markdown", "json"} {
		code, out, errOut := runPlanCLI(t, dir, "--format", format, "-o", planFile)
		if code != exitProblems {
			t.Fatalf("%s: exit %d, want 1 (a deny)\n%s", format, code, errOut)
		}
		got := hexDigest.ReplaceAllString(out, "<digest>")
		testutil.Golden(t, filepath.Join("testdata", "plan", "golden."+map[string]string{"text": "txt", "markdown": "md", "json": "json"}[format]), got)
	}
	saved, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(saved))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t, "plan.schema.json").Validate(doc); err != nil {
		t.Errorf("the plan does not match schemas/plan.schema.json: %#v", err)
	}
	var p plan.Plan
	if err := json.Unmarshal(saved, &p); err != nil || p.FormatVersion != plan.FormatVersion || p.Digest == "" {
		t.Errorf("-o PLANFILE: %v %+v", err, p)
	}
}

const extraSetForGolden = `apiVersion: permsets/v1
kind: PermissionSet
id: %s
instances: [%s]
name: %s
permissions: [people=read(assigned), people=*]
`

var hexDigest = regexp.MustCompile(`\b[0-9a-f]{12,64}\b`)

// TestPlanActorScenarios: who makes a change, judged on the base (issue 5's scenarios on the
// nation example: priya is a delegated admin who may assign field-organizer; maria a system
// admin).
func TestPlanActorScenarios(t *testing.T) {
	recruiter := "apiVersion: permsets/v1\nkind: PermissionSet\nid: recruiter\ninstances: [campaign]\nname: Recruiter\npermissions: [\"permset=assign('field-organizer')\"]\n"
	for _, tc := range []struct {
		name   string
		base   func(t *testing.T, dir string)
		change func(t *testing.T, dir string)
		args   []string
		exit   int // with --detailed-exitcode
		deny   []string
	}{
		{
			name: "a role mapping changed by a delegated admin",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "roles/organizers.yaml", "members: [sam, lena]", "members: [sam, lena, devon]")
			},
			args: []string{"--actor", "praman"}, exit: 1, deny: []string{"actor-not-allowed"},
		},
		{
			name: "the same by a system admin",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "roles/organizers.yaml", "members: [sam, lena]", "members: [sam, lena, devon]")
			},
			args: []string{"--actor", "mokafor"}, exit: 2,
		},
		{
			name: "a delegated admin assigns a set they may not",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "assignments/finance.yaml", "users: [alice]", "users: [alice, devon]")
			},
			args: []string{"--actor", "praman"}, exit: 1, deny: []string{"actor-not-allowed", "escalation"},
		},
		{
			name: "a delegated admin assigns field-organizer, holding all of it (by email, another case)",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "assignments/fellowship.yaml", "users: [kwame]", "users: [kwame, devon]")
			},
			args: []string{"--actor", "email:Priya@OkaforForMayor.org"}, exit: 2,
		},
		{
			name: "the same by a delegated admin who holds none of it",
			base: func(t *testing.T, dir string) {
				testutil.WriteFile(t, dir, "sets/campaign/recruiter.yaml", recruiter)
				testutil.Replace(t, dir, "instances/campaign.yaml", "maxCustomSets: 5", "maxCustomSets: 6")
				testutil.Replace(t, dir, "assignments/campaign-staff.yaml", "permissionSets: [communications]", "permissionSets: [communications, recruiter]")
			},
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "assignments/fellowship.yaml", "users: [kwame]", "users: [kwame, devon]")
			},
			args: []string{"--actor", "id:jordan"}, exit: 1, deny: []string{"escalation"},
		},
		{
			name: "a set edit that adds *=* to a set the actor holds",
			base: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/campaign/volunteer-coordinator.yaml", "  - permset=assign('field-organizer')", "  - permset=assign('field-organizer')\n  - permset=edit('volunteer-coordinator')")
			},
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/campaign/volunteer-coordinator.yaml", "  - people=read\n", "  - people=read\n  - \"*=*\"\n")
			},
			args: []string{"--actor", "praman"}, exit: 1, deny: []string{"escalation"},
		},
		{
			name: "re-enabling a disabled set that is still assigned",
			base: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/campaign/communications.yaml", "permissions:", "enabled: false\npermissions:\n  - people=delete")
				testutil.Replace(t, dir, "sets/campaign/volunteer-coordinator.yaml", "  - permset=assign('field-organizer')", "  - permset=assign('field-organizer')\n  - permset=edit('communications')")
			},
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/campaign/communications.yaml", "enabled: false\n", "")
			},
			args: []string{"--actor", "praman"}, exit: 1, deny: []string{"escalation"},
		},
		{
			name: "an actor granting themselves a right in the same change",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "sets/campaign/volunteer-coordinator.yaml", "  - permset=assign('field-organizer')", "  - permset=assign('field-organizer')\n  - permset=assign('finance')")
				testutil.Replace(t, dir, "assignments/finance.yaml", "users: [alice]", "users: [alice, priya]")
			},
			args: []string{"--actor", "praman"}, exit: 1, deny: []string{"actor-not-allowed", "escalation"},
		},
		{
			name: "an undeclared actor",
			change: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "assignments/fellowship.yaml", "users: [kwame]", "users: [kwame, devon]")
			},
			args: []string{"--actor", "email:mallory@example.org"}, exit: 1, deny: []string{"actor-unknown"},
		},
		// maria is a system admin whose id is maria and whose forge login is mokafor. CI passes
		// the pull request author's forge login: whoever registers the forge account "maria"
		// must not be judged as her.
		{
			name:   "a forge login nobody declares, named like an admin's id, assigns admin",
			change: adminToDevon,
			args:   []string{"--actor", "maria"}, exit: 1, deny: []string{"actor-unknown"},
		},
		{
			name: "another user's login, named like an admin's id, assigns admin",
			base: func(t *testing.T, dir string) {
				testutil.Replace(t, dir, "users/devon.yaml", "logins: [devon-reyes]", "logins: [maria]")
			},
			change: adminToDevon,
			args:   []string{"--actor", "maria"}, exit: 1, deny: []string{"actor-not-allowed", "escalation"},
		},
		{
			name:   "the admin by her login assigns admin",
			change: adminToDevon,
			args:   []string{"--actor", "mokafor"}, exit: 2,
		},
		{
			name:   "the admin by her id assigns admin",
			change: adminToDevon,
			args:   []string{"--actor", "id:maria"}, exit: 2,
		},
		{
			name:   "an email is not a login",
			change: adminToDevon,
			args:   []string{"--actor", "maria@riversideparty.org"}, exit: 1, deny: []string{"actor-unknown"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, dir := rulesRepoWith(t, tc.base)
			tc.change(t, dir)
			code, out, errOut := runPlanCLI(t, dir, append([]string{"--format", "json", "--detailed-exitcode"}, tc.args...)...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.exit, out, errOut)
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatal(err)
			}
			if got := codes(p.Deny); !slices.Equal(got, tc.deny) {
				t.Errorf("deny %v, want %v: %+v", got, tc.deny, p.Deny)
			}
		})
	}
}

// adminToDevon gives the admin set on campaign to devon as well as maria.
func adminToDevon(t *testing.T, dir string) {
	testutil.Replace(t, dir, "assignments/owner.yaml", "instance: campaign\nusers: [maria]", "instance: campaign\nusers: [maria, devon]")
}

// TestPlanBootstrap: the first change over an empty base, by a system admin only.
func TestPlanBootstrap(t *testing.T) {
	dir := testutil.CopyTree(t, "../../examples/nation")
	code, out, errOut := runPlanCLI(t, dir, "--base", "empty", "--actor", "mokafor", "--bootstrap", "--detailed-exitcode")
	if code != exitChanges || !strings.Contains(out, "+ Catalog catalog") {
		t.Errorf("bootstrap by maria: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runPlanCLI(t, dir, "--base", "empty", "--actor", "praman", "--bootstrap", "--format", "json")
	if code != exitProblems || !strings.Contains(out, `"actor-not-allowed"`) {
		t.Errorf("bootstrap by priya: exit %d\n%s", code, out)
	}
	// Without --bootstrap, an empty base holds no one: every actor is unknown there.
	code, out, _ = runPlanCLI(t, dir, "--base", "empty", "--actor", "id:maria", "--format", "json")
	if code != exitProblems || !strings.Contains(out, `"actor-unknown"`) {
		t.Errorf("empty base without --bootstrap: exit %d\n%s", code, out)
	}
	if code, _, errOut := runPlanCLI(t, dir, "--base", "empty", "--bootstrap"); code != exitUsage || !strings.Contains(errOut, "--bootstrap needs --actor") {
		t.Errorf("--bootstrap without --actor: exit %d %s", code, errOut)
	}
	_, live := liveRepo(t)
	if code, _, errOut := runPlanCLI(t, live, "--actor", "mokafor", "--bootstrap"); code != exitUsage || !strings.Contains(errOut, "empty base") {
		t.Errorf("--bootstrap with live: exit %d %s", code, errOut)
	}
}

const bookkeeperRule = `package permsets.custom.treasury

# The treasurer's set is changed by the finance committee, outside this repository.
deny contains {"code": "treasury-set-frozen", "object": "PermissionSet/bookkeeper", "file": c.after.file, "line": c.after.line,
	"message": "the bookkeeper set is frozen until the audit closes"} if {
	some c in input.changes
	c.kind == "PermissionSet"
	c.id == "bookkeeper"
}
`

// TestPlanCustomRules: the custom rules of the config repository's policies/ deny in the same
// shape, broken or I/O-calling rules are refused with their file and line, and the rules of the
// base apply even when the pull request deletes them.
func TestPlanCustomRules(t *testing.T) {
	withRule := func(t *testing.T, dir string) { testutil.WriteFile(t, dir, "policies/treasury.rego", bookkeeperRule) }
	editBookkeeper := func(t *testing.T, dir string) {
		testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "name: Bookkeeper", "name: Book keeper")
	}
	for _, tc := range []struct {
		name   string
		base   func(t *testing.T, dir string)
		change func(t *testing.T, dir string)
		exit   int
		deny   []string
		stderr string
	}{
		{name: "a custom rule that denies", base: withRule, change: editBookkeeper, exit: 1, deny: []string{"treasury-set-frozen"}},
		{name: "a custom rule added by the change applies too", change: func(t *testing.T, dir string) {
			withRule(t, dir)
			editBookkeeper(t, dir)
		}, exit: 1, deny: []string{"treasury-set-frozen"}},
		{name: "deleting the custom rule it breaks", base: withRule, change: func(t *testing.T, dir string) {
			editBookkeeper(t, dir)
			removeFile(t, dir, "policies/treasury.rego")
		}, exit: 1, deny: []string{"treasury-set-frozen"}},
		{name: "a change the rule lets through", base: withRule, change: func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "sets/campaign/finance.yaml", "name: Finance reporting", "name: Finance reports")
		}, exit: 2},
		{name: "a broken custom rule", change: func(t *testing.T, dir string) {
			testutil.WriteFile(t, dir, "policies/broken.rego", "package permsets.custom.broken\n\ndeny contains x if {\n")
		}, exit: 1, stderr: "policies/broken.rego:"},
		{name: "a custom rule calling http.send", change: func(t *testing.T, dir string) {
			testutil.WriteFile(t, dir, "policies/leak.rego", "package permsets.custom.leak\n\ndeny contains {\"code\": \"x\", \"message\": r.body} if {\n\tr := http.send({\"method\": \"GET\", \"url\": \"http://127.0.0.1:1/\"})\n}\n")
		}, exit: 1, stderr: "http.send is not allowed in custom rules"},
		{name: "a custom rule outside permsets.custom", change: func(t *testing.T, dir string) {
			testutil.WriteFile(t, dir, "policies/sneaky.rego", "package permsets.plan\n\ndeny := set()\n")
		}, exit: 1, stderr: "permsets.custom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, dir := rulesRepoWith(t, tc.base)
			tc.change(t, dir)
			code, out, errOut := runPlanCLI(t, dir, "--format", "json", "--detailed-exitcode")
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.exit, out, errOut)
			}
			if tc.stderr != "" {
				if !strings.Contains(errOut, tc.stderr) {
					t.Errorf("stderr lacks %q: %s", tc.stderr, errOut)
				}
				return
			}
			var p plan.Plan
			if err := json.Unmarshal([]byte(out), &p); err != nil {
				t.Fatal(err)
			}
			if got := codes(p.Deny); !slices.Equal(got, tc.deny) {
				t.Errorf("deny %v, want %v: %+v", got, tc.deny, p.Deny)
			}
		})
	}
}
