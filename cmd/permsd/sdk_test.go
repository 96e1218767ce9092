package main

import (
	"encoding/json"
	"os/exec"
	"testing"
	"time"

	"github.com/permsets/permsets/internal/testutil"
)

// TestOPASDKBatch asks permsd's batch API through the official OPA TypeScript SDK's evaluateBatch:
// a batch with a refused item gives the good items' results and the refused item's error, rather
// than an exception that loses them all.
func TestOPASDKBatch(t *testing.T) {
	dir := testutil.NPMInstall(t, "testdata/sdk", "opa-sdk", "node_modules/@styra/opa/package.json")
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
