package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestProgressOnATerminal(t *testing.T) {
	var term bytes.Buffer
	p := &progress{w: &term, on: true}
	out := clearFirst{&term, p}
	p.done() // nothing shown yet: nothing to clear
	p.phase("loading %s", "access")
	p.phase("compiling")
	if _, err := out.Write([]byte("ok\n")); err != nil {
		t.Fatal(err)
	}
	p.done() // already cleared by the write
	want := regexp.MustCompile(`^\r\x1b\[Kloading access… \(\d+\.\ds\)\r\x1b\[Kcompiling… \(\d+\.\ds\)\r\x1b\[Kok\n$`)
	if !want.MatchString(term.String()) {
		t.Errorf("terminal got %q", term.String())
	}
}

// TestNoProgressOffATerminal: through the CLI with stderr a buffer (CI, a pipe), no progress
// line or terminal escape is ever written.
func TestNoProgressOffATerminal(t *testing.T) {
	for _, args := range [][]string{
		{"validate", "../../examples/nation"},
		{"-C", "../../examples/nation", "check", "--user", "alice", "--instance", "campaign", "finances=export"},
		{"audit", "../../examples/nation"},
		{"validate", "testdata/does-not-exist"},
	} {
		_, out, errOut := runCLI(t, args...)
		if strings.Contains(out+errOut, "\x1b[K") || strings.Contains(out+errOut, "…") && strings.Contains(errOut, "loading") {
			t.Errorf("%v: progress off a terminal:\n%q\n%q", args, out, errOut)
		}
	}
}
