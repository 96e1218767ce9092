package config_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/testutil"
)

// TestNormalizedModel: lists sorted, permissions canonical, defaults filled; the same input
// always gives byte-identical JSON.
func TestNormalizedModel(t *testing.T) {
	res := load(t, "testdata/model")
	if !res.OK() {
		t.Fatalf("problems:\n%s", render(res))
	}
	got, err := json.MarshalIndent(res.Model, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/model.golden.json", string(got)+"\n")
	for range 3 {
		again, _ := json.MarshalIndent(load(t, "testdata/model").Model, "", "  ")
		if string(again) != string(got) {
			t.Fatal("two loads of the same tree gave different models")
		}
	}
	m := res.Model
	if a := m.Assignments[0]; a.ID != "all.yaml#1" || a.Source.Line != 2 || a.Source.Doc != 1 {
		t.Errorf("default assignment id/source = %q %+v", a.ID, a.Source)
	}
	if s := m.Set("viewers"); s == nil || s.Source.File != "all.yaml" || s.At.Permissions[0].Line != 15 {
		t.Errorf("set source or permission positions lost: %+v", s)
	}
	if m.Instance("staging").Name != "staging" || m.Role("readers").Name != "readers" {
		t.Error("names do not default to ids")
	}
	if m.Repository.Lint.ExpiringWithin != config.DefaultExpiringWithin {
		t.Errorf("expiringWithin default = %v", m.Repository.Lint.ExpiringWithin)
	}
	if m.Set("nope") != nil || m.User("nope") != nil {
		t.Error("lookup of a missing id found something")
	}
}

// TestCacheReparsesOnlyChangedFiles: with a cache, a second load parses nothing, and after an
// edit only the edited file is parsed again, and the model shows the edit.
func TestCacheReparsesOnlyChangedFiles(t *testing.T) {
	dir := testutil.CopyTree(t, "../examples/nation")
	cache := config.NewCache()
	ctx := context.Background()
	first, err := config.LoadDir(ctx, dir, config.Options{Cache: cache})
	if err != nil || !first.OK() {
		t.Fatalf("first load: %v %v", err, first.Problems)
	}
	if first.Parsed != first.Files || cache.Len() == 0 {
		t.Fatalf("first load parsed %d of %d files, cache holds %d", first.Parsed, first.Files, cache.Len())
	}
	second, _ := config.LoadDir(ctx, dir, config.Options{Cache: cache})
	if second.Parsed != 0 {
		t.Fatalf("unchanged reload parsed %d files", second.Parsed)
	}
	path := filepath.Join(dir, "sets", "hq", "staffer.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "name: Staffer", "name: Staff member", 1)
	if edited == string(data) {
		t.Fatal("the example's staffer set has no 'name: Staffer' line to edit")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]*config.Result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = config.LoadDir(ctx, dir, config.Options{Cache: cache})
		}()
	}
	wg.Wait()
	parsed := 0
	for _, r := range results {
		if r.Model.Set("staffer").Name != "Staff member" {
			t.Fatalf("reload does not show the edit: %q", r.Model.Set("staffer").Name)
		}
		parsed += r.Parsed
	}
	if parsed < 1 || parsed > len(results) {
		t.Fatalf("concurrent reloads after one edit parsed %d files in all", parsed)
	}
	// Sources are per load: the cache must not leak one load's paths into another's objects.
	if results[0].Model.Set("staffer").Source.File != "sets/hq/staffer.yaml" {
		t.Fatalf("source = %+v", results[0].Model.Set("staffer").Source)
	}
}
