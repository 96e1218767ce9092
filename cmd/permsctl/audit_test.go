package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"

	"github.com/permsets/permsets/audit"
	"github.com/permsets/permsets/internal/testutil"
)

// auditNow is the time the audit tests judge expiry at.
const auditNow = "2026-11-15T00:00:00Z"

// auditFindings is the repository that triggers every finding kind.
const auditFindings = "../../audit/testdata/findings"

func runAuditCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runWith(append([]string{"audit"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

var auditRepos = map[string]string{
	"nation":   "../../examples/nation",
	"portal":   "../../examples/portal",
	"findings": auditFindings,
}

// TestAuditGolden: the four formats of the audit of examples/nation, examples/portal and the
// findings repository, against golden files in audit/testdata/golden (UPDATE_GOLDEN=1 writes
// them). Revision digests are replaced, as they change with the rules and the engine.
func TestAuditGolden(t *testing.T) {
	exts := map[string]string{"text": "txt", "json": "json", "markdown": "md", "csv": "csv"}
	for name, dir := range auditRepos {
		for _, format := range []string{"text", "json", "markdown", "csv"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				code, out, errOut := runAuditCLI(t, dir, "--now", auditNow, "--format", format)
				if code != exitOK {
					t.Fatalf("exit %d, want 0\n%s", code, errOut)
				}
				got := hexDigest.ReplaceAllString(out, "<digest>")
				testutil.Golden(t, filepath.Join("..", "..", "audit", "testdata", "golden", name+"."+exts[format]), got)
			})
		}
	}
}

// auditJSON runs audit --format json and checks the output against schemas/audit.schema.json.
func auditJSON(t *testing.T, args ...string) *audit.Report {
	t.Helper()
	code, out, errOut := runAuditCLI(t, append(args, "--format", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s", code, errOut)
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t, "audit.schema.json").Validate(doc); err != nil {
		t.Errorf("the audit does not match schemas/audit.schema.json: %#v", err)
	}
	var r audit.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestAuditJSONMatchesSchema: every repository's report conforms to its schema and says what it
// audited, when.
func TestAuditJSONMatchesSchema(t *testing.T) {
	for name, dir := range auditRepos {
		t.Run(name, func(t *testing.T) {
			r := auditJSON(t, dir, "--now", auditNow)
			if r.FormatVersion != audit.FormatVersion || len(r.Revision) != 32 || r.Commit != "" || r.Now != auditNow || r.NowFrom != audit.NowFromFlag {
				t.Errorf("header: %+v", r)
			}
		})
	}
	// Without --now: the wall clock.
	if r := auditJSON(t, "-C", "../../examples", "portal"); r.NowFrom != audit.NowFromClock {
		t.Errorf("now_from %q, want clock", r.NowFrom)
	}
}

// TestAuditNation: what the access review of the example says, in its own terms.
func TestAuditNation(t *testing.T) {
	r := auditJSON(t, "../../examples/nation", "--now", auditNow)
	if r.ExpiringWithin != "30d" || len(r.SystemAdmins) != 1 || r.SystemAdmins[0].User != "maria" {
		t.Errorf("expiring_within %q (repository.yaml says 30d), system admins %+v", r.ExpiringWithin, r.SystemAdmins)
	}
	var campaign *audit.Instance
	for _, in := range r.Instances {
		if in.ID == "campaign" {
			campaign = in
		}
	}
	if campaign == nil {
		t.Fatal("no campaign instance")
	}
	// maria holds admin (*=*): exempt from record-and-export-finances, and listed.
	if len(campaign.SeparationOfDuties) != 1 || !campaign.SeparationOfDuties[0].Exempt || campaign.SeparationOfDuties[0].User != "maria" {
		t.Errorf("separation of duties: %+v", campaign.SeparationOfDuties)
	}
	if len(campaign.PrivilegedHolders) != 1 || !campaign.PrivilegedHolders[0].Superuser || !campaign.PrivilegedHolders[0].SystemAdmin {
		t.Errorf("privileged: %+v", campaign.PrivilegedHolders)
	}
	if len(campaign.SuspendedHolders) != 1 || campaign.SuspendedHolders[0].User != "quinn" {
		t.Errorf("suspended: %+v", campaign.SuspendedHolders)
	}
	var fellowship *audit.Holding
	for _, s := range campaign.Sets {
		for i, h := range s.Holders {
			if h.Assignment == "fall-fellowship-2026" {
				fellowship = &s.Holders[i]
			}
		}
	}
	if fellowship == nil || fellowship.File != "assignments/fellowship.yaml" || fellowship.Line != 5 || fellowship.Expires != "2027-01-31T23:59:59Z" || fellowship.Status != audit.StatusActive {
		t.Errorf("kwame's fellowship: %+v", fellowship)
	}
	// Not expiring within 30 days of the 15th of November; within 90 it is.
	if len(campaign.ExpiringAssignments) != 0 {
		t.Errorf("expiring: %+v", campaign.ExpiringAssignments)
	}
	r = auditJSON(t, "../../examples/nation", "--now", auditNow, "--expiring-within", "90d")
	for _, in := range r.Instances {
		if in.ID == "campaign" && (len(in.ExpiringAssignments) != 1 || in.ExpiringAssignments[0].Assignment != "fall-fellowship-2026" || in.ExpiringAssignments[0].DaysLeft != 78) {
			t.Errorf("expiring within 90d: %+v", in.ExpiringAssignments)
		}
	}
	// After it, expired.
	r = auditJSON(t, "../../examples/nation", "--now", "2027-02-03T00:00:00Z")
	for _, in := range r.Instances {
		if in.ID == "campaign" && (len(in.ExpiredAssignments) != 1 || in.ExpiredAssignments[0].DaysLeft != -2) {
			t.Errorf("expired: %+v", in.ExpiredAssignments)
		}
	}
}

// TestAuditCSV: the CSV parses back (RFC 4180) into one header row and rows of the same width,
// every kind of finding has rows, and no cell can be read as a formula.
func TestAuditCSV(t *testing.T) {
	code, out, errOut := runAuditCLI(t, auditFindings, "--now", auditNow, "--format", "csv")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll() // fails on rows of another width
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], audit.CSVHeader) {
		t.Fatalf("header %v, want %v", rows[0], audit.CSVHeader)
	}
	kinds := map[string]int{}
	for _, row := range rows[1:] {
		kinds[row[0]]++
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("a cell a spreadsheet reads as a formula: %q in %v", cell, row)
			}
		}
	}
	for _, k := range append(slices.Clone(audit.FindingKinds), audit.KindHolding) {
		if kinds[k] == 0 {
			t.Errorf("no %s row: %v", k, kinds)
		}
	}
	if kinds[audit.KindHolding] != 16 {
		t.Errorf("%d holding rows, want one per user, set and assignment or role: 16", kinds[audit.KindHolding])
	}
	if !strings.Contains(out, "'=SUM(1+1) record-and-approve") {
		t.Errorf("the rule name is not defused:\n%s", out)
	}
}

// TestAuditMarkdownRenders: the markdown report renders as a reader expects: the summary table
// first, a section per instance, the holdings table collapsed, and text from the config escaped
// (an instance named with HTML renders as text).
func TestAuditMarkdownRenders(t *testing.T) {
	code, out, errOut := runAuditCLI(t, auditFindings, "--now", auditNow, "--format", "markdown")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	page := renderMarkdown(t, []byte(out))
	summary := strings.Index(page, "<h2>Summary</h2>")
	first := strings.Index(page, "<h2>Instance <code>prod</code>")
	if summary < 0 || first < summary || !strings.Contains(page[summary:first], "<table>") {
		t.Errorf("the summary table does not come first:\n%s", page)
	}
	for _, want := range []string{
		"<h1>permsets audit</h1>",
		"<td><code>prod</code></td>",
		"<h3>Separation-of-duties violations (2)</h3>",
		"<h3>Sets assigned to nobody (1)</h3>",
		"<details><summary>Holdings: 13 holdings held by 9 users</summary>",
		"Production &lt;b&gt;*main*&lt;/b&gt; | ledger",
		"Alice &lt;script&gt;*Owner*&lt;/script&gt; | [x]",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("rendered report lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "<b>") {
		t.Errorf("text from the config became HTML:\n%s", page)
	}
	if strings.Count(page, "<details>") != 2 || strings.Count(page, "</details>") != 2 {
		t.Errorf("want a closed <details> per instance:\n%s", page)
	}
}

// TestAuditRev: --rev audits a past revision. An access removed in a later commit is reported
// at the earlier one, with the commit's time as the report's time, and said so.
func TestAuditRev(t *testing.T) {
	top, dir := liveRepo(t)
	repo, err := git.PlainOpen(top)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Replace(t, dir, "assignments/finance.yaml", "users: [tomas]\npermissionSets: [bookkeeper]", "users: [alice]\npermissionSets: [bookkeeper]")
	commitAll(t, repo, "tomas no longer keeps the books")
	holders := func(r *audit.Report, set string) []string {
		var out []string
		for _, in := range r.Instances {
			for _, s := range in.Sets {
				if s.Set == set && in.ID == "campaign" {
					for _, h := range s.Holders {
						out = append(out, h.Users...)
					}
				}
			}
		}
		return out
	}
	before := auditJSON(t, "-C", dir, "--rev", "HEAD~1")
	if got := holders(before, "bookkeeper"); !slices.Equal(got, []string{"tomas"}) {
		t.Errorf("at HEAD~1 bookkeeper is held by %v, want tomas", got)
	}
	if before.Commit == "" || before.Ref != "HEAD~1" || before.NowFrom != audit.NowFromCommit || before.Now != "2026-11-01T12:00:00Z" {
		t.Errorf("header at HEAD~1: commit %q ref %q now %q from %q", before.Commit, before.Ref, before.Now, before.NowFrom)
	}
	after := auditJSON(t, "-C", dir, "--rev", "HEAD")
	if got := holders(after, "bookkeeper"); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("at HEAD bookkeeper is held by %v, want alice", got)
	}
	if after.Commit == before.Commit || after.Revision == before.Revision {
		t.Errorf("the two revisions are reported alike: %s %s", after.Commit, after.Revision)
	}
	code, out, errOut := runAuditCLI(t, "-C", dir, "--rev", "HEAD~1")
	if code != exitOK || !strings.Contains(out, "Now: 2026-11-01T12:00:00Z (the commit's time: --rev without --now)") ||
		!strings.Contains(out, "Revision: HEAD~1 (commit ") {
		t.Errorf("exit %d, text:\n%s%s", code, out, errOut)
	}
	// --now still wins over the commit's time.
	if r := auditJSON(t, "-C", dir, "--rev", "HEAD~1", "--now", auditNow); r.Now != auditNow || r.NowFrom != audit.NowFromFlag {
		t.Errorf("--rev with --now: now %q from %q", r.Now, r.NowFrom)
	}
	if code, _, errOut := runAuditCLI(t, "-C", dir, "--rev", "no-such-rev"); code != exitProblems || !strings.Contains(errOut, "no-such-rev") {
		t.Errorf("unknown revision: exit %d\n%s", code, errOut)
	}
}

// TestAuditOut: -o writes the report to a file (aside, then renamed), the same as on stdout.
func TestAuditOut(t *testing.T) {
	file := filepath.Join(t.TempDir(), "audit.csv")
	code, out, errOut := runAuditCLI(t, auditFindings, "--now", auditNow, "--format", "csv", "-o", file)
	if code != exitOK || !strings.HasPrefix(out, "wrote "+file+": Audit: 2 instances") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	written, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, direct, _ := runAuditCLI(t, auditFindings, "--now", auditNow, "--format", "csv")
	if string(written) != direct {
		t.Errorf("-o wrote something else than stdout shows")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".permsets-audit-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	if code, _, _ := runAuditCLI(t, auditFindings, "-o", filepath.Join(t.TempDir(), "missing", "x.json")); code != exitProblems {
		t.Errorf("-o into a missing directory: exit %d, want 1", code)
	}
}

// TestAuditExitCodes: findings are not errors; config problems are 1; a wrong command line is
// a usage error.
func TestAuditExitCodes(t *testing.T) {
	broken := brokenConfig(t)
	for _, tc := range []struct {
		note string
		args []string
		code int
		err  string
	}{
		{note: "findings are not errors", args: []string{auditFindings, "--now", auditNow}, code: exitOK},
		{note: "config problems", args: []string{broken}, code: exitProblems, err: "run permsctl validate"},
		{note: "not a directory", args: []string{filepath.Join(broken, "nope")}, code: exitProblems},
		{note: "unknown format", args: []string{auditFindings, "--format", "xml"}, code: exitUsage, err: "--format"},
		{note: "bad --now", args: []string{auditFindings, "--now", "yesterday"}, code: exitUsage, err: "--now"},
		{note: "bad --expiring-within", args: []string{auditFindings, "--expiring-within", "soon"}, code: exitUsage, err: "--expiring-within"},
		{note: "two directories", args: []string{auditFindings, auditFindings}, code: exitUsage},
	} {
		t.Run(tc.note, func(t *testing.T) {
			code, _, errOut := runAuditCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.err) {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
		})
	}
}

// TestAuditMarkdownHostile: an instance name, a set name and a file name (whose assignment's
// default id is made of it) with newlines, an HTML comment and a fake heading cannot forge the
// markdown report: every instance keeps its heading and its closed holdings section, and no
// HTML comment is opened.
func TestAuditMarkdownHostile(t *testing.T) {
	dir := testutil.CopyTree(t, "../../examples/nation")
	testutil.Replace(t, dir, "instances/campaign.yaml", "name: Okafor for Mayor 2027", `name: "Okafor\n<!--\n# all clear"`)
	testutil.Replace(t, dir, "sets/campaign/bookkeeper.yaml", "name: Bookkeeper", `name: "Book | keeper\n<!--"`)
	testutil.WriteFile(t, dir, "assignments/x\n<!--\n## Instance `y` | z.yaml",
		"apiVersion: permsets/v1\nkind: Assignment\ninstance: campaign\nusers: [devon]\npermissionSets: [finance]\n")
	code, md, errOut := runAuditCLI(t, dir, "--now", auditNow, "--format", "markdown")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if strings.Contains(md, "<!--") {
		t.Errorf("the report opens an HTML comment:\n%s", md)
	}
	page := renderMarkdown(t, []byte(md))
	if strings.Contains(page, "<!--") || strings.Count(page, "<h1>") != 1 {
		t.Errorf("the rendered report holds an HTML comment or a heading of the config's:\n%s", page)
	}
	// Summary, System admins, and one heading per instance (campaign and hq).
	if n := strings.Count(page, "<h2>"); n != 4 || !strings.Contains(page, "<h2>Instance <code>campaign</code>: Okafor\\x0a&lt;!--\\x0a# all clear</h2>") {
		t.Errorf("%d <h2> headings, want 4 with campaign's name as text:\n%s", n, page)
	}
	if strings.Count(page, "<details>") != 2 || strings.Count(page, "</details>") != 2 {
		t.Errorf("want a closed <details> per instance:\n%s", page)
	}
}

// TestTextOutputsEscapeControls: a set name and description with a screen-clearing escape
// sequence and a carriage return, in a file whose name holds them too, reach plan's, audit's
// and validate's text output only as visible escapes: no raw ESC, carriage return or bidi
// override is printed.
func TestTextOutputsEscapeControls(t *testing.T) {
	const hostile = `"Door\e[2J\rknocker\u202e"`
	set := "apiVersion: permsets/v1\nkind: PermissionSet\nid: door-knocker\ninstances: [campaign]\nname: " + hostile +
		"\ndescription: " + hostile + "\npermissions: [people=read]\n"
	file := "sets/campaign/door\x1b[2J\r\u202eknocker.yaml"
	raw := func(t *testing.T, what, out string) {
		t.Helper()
		if strings.ContainsAny(out, "\x1b\r\u202e") {
			t.Errorf("%s prints a raw control character:\n%q", what, out)
		}
		if !strings.Contains(out, `\x1b[2J`) {
			t.Errorf("%s does not show the escape:\n%s", what, out)
		}
	}
	_, dir := liveRepo(t)
	testutil.WriteFile(t, dir, file, set)
	testutil.Replace(t, dir, "instances/campaign.yaml", "maxCustomSets: 5", "maxCustomSets: 6")
	testutil.Replace(t, dir, "instances/campaign.yaml", "name: Okafor for Mayor 2027", "name: "+hostile)
	code, out, errOut := runPlanCLI(t, dir, "--detailed-exitcode")
	if code != exitChanges {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	raw(t, "plan", out)

	code, out, errOut = runAuditCLI(t, dir, "--now", auditNow)
	if code != exitOK {
		t.Fatalf("audit: exit %d\n%s", code, errOut)
	}
	raw(t, "audit", out)

	testutil.WriteFile(t, dir, "sets/campaign/bad\x1b[2J.yaml", "apiVersion: permsets/v1\nkind: PermissionSet\nid: "+hostile+"\n")
	var vout, verr bytes.Buffer
	if code := runWith([]string{"-C", dir, "validate"}, &vout, &verr); code != exitProblems {
		t.Fatalf("validate: exit %d\n%s%s", code, vout.String(), verr.String())
	}
	raw(t, "validate", vout.String()+verr.String())
}
