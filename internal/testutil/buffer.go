package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// SyncBuffer is a bytes.Buffer safe for concurrent writers (a logger, a child process's
// stderr) and a test reading it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Count is the number of lines containing s.
func (b *SyncBuffer) Count(s string) int {
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// UpdateGolden says whether this run rewrites golden files and scripts: UPDATE_GOLDEN=1, the
// project's one way to regenerate expected output (`UPDATE_GOLDEN=1 go test ./...`).
func UpdateGolden() bool { return os.Getenv("UPDATE_GOLDEN") == "1" }

// Golden compares got with the golden file path; with UPDATE_GOLDEN=1 it writes the file
// first (creating its directory).
func Golden(t testing.TB, path, got string) {
	t.Helper()
	if UpdateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("differs from %s (UPDATE_GOLDEN=1 rewrites it):\n%s", path, got)
	}
}
