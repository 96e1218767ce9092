package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// sdkDir installs the pinned OPA TypeScript SDK (testdata/sdk: package.json and package-lock.json)
// with npm ci into a cache directory named by the lock file's digest, once, and returns it with
// the test script copied in. It skips the test when node is not installed.
func sdkDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the OPA TypeScript SDK test needs node and npm (apt-get install nodejs npm)")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatal("node is installed but npm is not: apt-get install npm")
	}
	lock, err := os.ReadFile("testdata/sdk/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	cache := os.Getenv("PERMSETS_SDK_CACHE")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(base, "permsets", "opa-sdk")
	}
	dir := filepath.Join(cache, hex.EncodeToString(sum[:8]))
	for _, f := range []string{"package.json", "package-lock.json", "batch.mjs"} {
		data, err := os.ReadFile(filepath.Join("testdata/sdk", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@styra", "opa", "package.json")); err != nil {
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	return dir
}

// TestOPASDKBatch asks permsd's batch API through the official OPA TypeScript SDK's evaluateBatch:
// a batch with a refused item gives the good items' results and the refused item's error, rather
// than an exception that loses them all.
func TestOPASDKBatch(t *testing.T) {
	dir := sdkDir(t)
	d := start(t, "--dir", "../../examples/authzen")
	cmd := exec.Command("node", "batch.mjs", d.url, "")
	cmd.Dir = dir
	done := make(chan struct{})
	time.AfterFunc(60*time.Second, func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
		}
	})
	out, err := cmd.Output()
	close(done)
	if err != nil {
		t.Fatalf("node batch.mjs: %v\n%s", err, out)
	}
	var got struct {
		Mixed        map[string]any `json:"mixed"`
		MixedError   string         `json:"mixedError"`
		AllGood      map[string]any `json:"allGood"`
		AllGoodError string         `json:"allGoodError"`
		RejectMixed  string         `json:"rejectMixed"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.MixedError != "" || got.AllGoodError != "" {
		t.Fatalf("the SDK threw: %s", out)
	}
	if got.Mixed["alice"] != true || got.Mixed["bob"] != false {
		t.Errorf("mixed batch results: %s", out)
	}
	if r, _ := got.Mixed["refused"].(map[string]any); r["httpStatusCode"] != "500" || r["code"] != "invalid_parameter" {
		t.Errorf("the refused item: %v, want http_status_code 500 with code invalid_parameter", r)
	}
	if got.AllGood["a"] != true {
		t.Errorf("an all-good batch: %s", out)
	}
	if got.RejectMixed != "rejected" {
		t.Errorf("rejectMixed: %s, want the promise rejected", got.RejectMixed)
	}
}
