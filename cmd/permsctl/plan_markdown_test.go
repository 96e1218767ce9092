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
		"<h3>permsets plan: ❌ denied: 2 deny entries</h3>",
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
