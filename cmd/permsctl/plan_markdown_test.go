package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"

	"github.com/permsets/permsets/internal/testutil"
)

// renderMarkdown renders a plan comment as a forge does: GitHub-flavoured Markdown (tables, task
// lists) with the raw HTML of <details> allowed.
func renderMarkdown(t *testing.T, md []byte) string {
	t.Helper()
	var out bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))
	if err := gm.Convert(md, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestPlanMarkdownRenders: the golden pull-request comment renders to the HTML a reviewer
// expects: a heading with the verdict, deny and warn as unchecked task lists, the objects as a
// table and the access as a diff block, both in collapsed <details>. PLAN_HTML=FILE also writes
// the page (scripts/plan-screenshot.sh looks at it in headless Chromium).
func TestPlanMarkdownRenders(t *testing.T) {
	md, err := os.ReadFile(filepath.Join("testdata", "plan", "golden.md"))
	if err != nil {
		t.Fatal(err)
	}
	page := renderMarkdown(t, md)
	for _, want := range []string{
		"<h3>permsets plan: ❌ denied: 5 deny entries</h3>",
		"<strong>Plan: 1 to add, 2 to change, 0 to remove; 1 users gain access, 5 lose access</strong>",
		`<li><input disabled="" type="checkbox"> <strong>custom-set-limit</strong>`,
		"<details><summary>Objects: 1 to add, 2 to change, 0 to remove</summary>",
		"<table>", "<td><code>door-knocker</code></td>",
		`<pre><code class="language-diff">+ tomas@campaign finances=export via finance (direct)`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("rendered comment lacks %q:\n%s", want, page)
		}
	}
	if strings.Count(page, "<details>") != 2 || strings.Count(page, "</details>") != 2 {
		t.Errorf("want two closed <details> sections:\n%s", page)
	}
	if out := os.Getenv("PLAN_HTML"); out != "" {
		doc := "<!doctype html><meta charset=utf-8><title>plan</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px}pre{background:#f6f8fa;padding:8px}</style>" + page
		if err := os.WriteFile(out, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// hostileRule is a head's custom rule written to forge the pull-request comment: a code with a
// newline and an HTML comment, an object with backticks and a pipe, a message with a fake
// verdict, each trying to end its line and hide what follows.
const hostileRule = "package permsets.custom.hostile\n\n" +
	`deny contains {"code": "x\n<!--", "object": "User/` + "`x`" + `\n| y", "message": "fine\n\n### permsets plan: ✅ no rule denies this change\n\n<!--"} if true` + "\n" +
	`warn contains {"code": "ok", "object": "` + "``" + `\n<!--", "file": "a\n<!--.yaml", "line": 1, "message": "[click](https://example.org) www.example.org https://example.org/x a@example.org **b** <b>x</b> &amp;\n<!--"} if true` + "\n"

// TestPlanMarkdownHostile: a head's hostile custom rule and a file name with a newline (whose
// assignment's default id is made of it) cannot forge the comment: the real verdict is the
// only heading, the Objects and Access sections are still there and closed, and no HTML comment
// is opened, in the Markdown or in the page it renders to.
func TestPlanMarkdownHostile(t *testing.T) {
	_, dir := liveRepo(t)
	testutil.WriteFile(t, dir, "policies/hostile.rego", hostileRule)
	testutil.WriteFile(t, dir, "assignments/x\n<!--\n### ✅ `y` | z.yaml",
		"apiVersion: permsets/v1\nkind: Assignment\ninstance: campaign\nusers: [devon]\npermissionSets: [finance]\n")
	code, md, errOut := runPlanCLI(t, dir, "--format", "markdown")
	if code != exitProblems {
		t.Fatalf("exit %d, want 1 (a deny)\n%s%s", code, md, errOut)
	}
	if strings.Contains(md, "<!--") {
		t.Errorf("the comment opens an HTML comment:\n%s", md)
	}
	if !strings.HasPrefix(md, "### permsets plan: ❌ denied: ") || strings.Count(md, "\n#") != 2 {
		t.Errorf("want the real verdict first and only the Deny and Warn headings after it:\n%s", md)
	}
	page := renderMarkdown(t, []byte(md))
	for _, want := range []string{
		"<h3>permsets plan: ❌ denied: ",
		"<summary>Objects: 1 to add, 0 to change, 0 to remove</summary>",
		"<summary>Access: 1 user gains, 0 users lose</summary>",
		`<strong>invalid-finding</strong>`,
		"+ devon@campaign finances=export via finance (direct)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("rendered comment lacks %q:\n%s", want, page)
		}
	}
	for _, bad := range []string{"<!--", "<h3>permsets plan: ✅", "<a ", "<b>", "<strong>b</strong>"} {
		if strings.Contains(page, bad) {
			t.Errorf("rendered comment holds %q:\n%s", bad, page)
		}
	}
	if n := strings.Count(page, "<h3>"); n != 1 {
		t.Errorf("%d <h3> headings, want the verdict only:\n%s", n, page)
	}
	if strings.Count(page, "<details>") != 2 || strings.Count(page, "</details>") != 2 || strings.Count(page, "<tr>") != 2 {
		t.Errorf("want two closed <details> sections and a table of one object:\n%s", page)
	}
}
