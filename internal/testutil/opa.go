package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	opaOnce sync.Once
	opaPath string
	opaErr  error
)

// StockOPA returns the path of a stock opa binary of the version go.mod uses, built from the
// module proxy by scripts/opa.sh (cached between runs, built once per test binary). A failed
// build fails the test.
func StockOPA(t testing.TB) string {
	t.Helper()
	opaOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			opaErr = err
			return
		}
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "opa.sh"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			opaErr = fmt.Errorf("%v\n%s", err, stderr.String())
			return
		}
		opaPath = strings.TrimSpace(string(out))
	})
	if opaErr != nil {
		t.Fatalf("building stock opa: %v", opaErr)
	}
	return opaPath
}

// moduleRoot is the nearest directory holding go.mod, from the working directory (a test's
// package directory) up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
