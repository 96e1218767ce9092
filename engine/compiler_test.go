package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/synth"
	"github.com/permsets/permsets/internal/testutil"
)

// TestCompilerReuse edits a generated repository step by step and compiles each revision with
// one Compiler: every value must equal a fresh compilation's, and each step must reuse exactly
// the instances and sets its edit did not touch.
func TestCompilerReuse(t *testing.T) {
	dir := testutil.Generated(t, synth.Options{Instances: 3, Sets: 60, Users: 200, Roles: 8, Pairs: 2000})
	c := &Compiler{}
	compileBoth := func(t *testing.T) CompileStats {
		t.Helper()
		res, err := config.LoadDir(context.Background(), dir, config.Options{})
		if err != nil || !res.OK() {
			t.Fatalf("load: %v %v", err, res.Problems)
		}
		got, err := c.Bundle(context.Background(), res.Model, "", "")
		if err != nil {
			t.Fatal(err)
		}
		want, err := NewBundle(res.Model, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Revision != want.Revision || got.index.Compare(want.index) != 0 {
			t.Fatal("the incremental compilation differs from a fresh one")
		}
		return c.LastStats()
	}
	if s := compileBoth(t); s.InstancesReused != 0 || s.SetsReused != 0 || s.Instances != 3 || s.Sets != 60 {
		t.Fatalf("first compilation: %+v", s)
	}
	steps := []struct {
		name                        string
		rel, old, new               string
		instancesReused, setsReused int // instancesReused -1: any (the value must still match)
	}{
		{"unchanged", "", "", "", 3, 60},
		{"role renamed", "roles/roles000.yaml", "name: Role 0001", "name: Renamed 0001", 3, 60},
		{"set description", "sets/i000/sets000.yaml", "description: Synthetic permission set", "description: Edited set", 3, 60},
		{"user added to an assignment on i002", "assignments/assignments000.yaml", "users:\n  - u000001\n", "users:\n  - u000003\n  - u000001\n", 2, 60},
		{"set on i000 renamed", "sets/i000/sets000.yaml", "name: Set ", "name: Renamed set ", 2, 59},
		{"user suspended", "users/users000.yaml", "logins: [gh-u000001]\n", "logins: [gh-u000001]\nsuspended: true\n", -1, 60},
		{"catalog changed", "catalog.yaml", "description: Budgets and ledgers", "description: Budgets", 0, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.rel != "" {
				testutil.Replace(t, dir, st.rel, st.old, st.new)
			}
			s := compileBoth(t)
			if st.instancesReused >= 0 && s.InstancesReused != st.instancesReused {
				t.Errorf("reused %d of %d instances, want %d", s.InstancesReused, s.Instances, st.instancesReused)
			}
			if s.SetsReused != st.setsReused {
				t.Errorf("reused %d of %d sets, want %d", s.SetsReused, s.Sets, st.setsReused)
			}
		})
	}
}

// TestNewBundleAndIndex: the bundle is NewBundle's and the index Compile's, for every example.
func TestNewBundleAndIndex(t *testing.T) {
	names, err := filepath.Glob("../examples/*/catalog.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("examples: %v %v", names, err)
	}
	for _, name := range names {
		dir := filepath.Dir(name)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, err := config.LoadDir(context.Background(), dir, config.Options{})
			if err != nil || !res.OK() {
				t.Fatalf("load: %v %v", err, res.Problems)
			}
			b, idx, err := NewBundleAndIndex(res.Model, "c0ffee")
			if err != nil {
				t.Fatal(err)
			}
			want, err := NewBundle(res.Model, "c0ffee")
			if err != nil {
				t.Fatal(err)
			}
			if b.Revision != want.Revision || b.Commit != want.Commit || b.index.Compare(want.index) != 0 {
				t.Error("the bundle differs from NewBundle's")
			}
			wantIdx, err := Compile(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := idx.MarshalJSON()
			exp, _ := wantIdx.MarshalJSON()
			if string(got) != string(exp) {
				t.Error("the index differs from Compile's")
			}
		})
	}
}
