package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"-h"}, &stderr); code != 0 || !strings.Contains(stderr.String(), "-docs-per-file") {
		t.Fatalf("-h: exit %d, output:\n%s", code, stderr.String())
	}
	stderr.Reset()
	if code := run(nil, &stderr); code != 2 {
		t.Fatalf("no -out: exit %d, want 2", code)
	}
	stderr.Reset()
	dir := t.TempDir()
	if code := run([]string{"-out", dir, "-users", "50", "-pairs", "77", "-inputs", "3"}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "(77 pairs)") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("summary: %q", stderr.String())
	}
}
