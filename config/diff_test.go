package config_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/testutil"
)

func TestDiff(t *testing.T) {
	before := load(t, "../examples/nation")
	if !before.OK() {
		t.Fatal(before.Problems)
	}
	for _, tc := range []struct {
		note   string
		edit   func(t *testing.T, dir string)
		golden string // testdata/diff/NAME.golden.json, the changes as JSON
	}{
		{note: "no change", edit: func(*testing.T, string) {}, golden: "none"},
		{note: "a display name renamed", golden: "rename", edit: func(t *testing.T, dir string) {
			testutil.Replace(t, dir, "sets/campaign/finance.yaml", "name: Finance reporting", "name: Campaign finance")
		}},
		{note: "a set added, an assignment removed, a requirement changed", golden: "mixed", edit: func(t *testing.T, dir string) {
			testutil.WriteFile(t, dir, "sets/campaign/web.yaml", "apiVersion: permsets/v1\nkind: PermissionSet\nid: web\ninstances: [campaign]\nname: Web\npermissions: [website=edit]\n")
			if err := os.Remove(filepath.Join(dir, "assignments/fellowship.yaml")); err != nil {
				t.Fatal(err)
			}
			testutil.Replace(t, dir, "catalog.yaml", "api=edit: [settings=read]", "api=edit: [settings=edit]")
		}},
		{note: "an instance added to the admin set", golden: "admin-instance", edit: func(t *testing.T, dir string) {
			testutil.WriteFile(t, dir, "instances/field.yaml", "apiVersion: permsets/v1\nkind: Instance\nid: field\n")
			testutil.Replace(t, dir, "sets/hq/admin.yaml", "instances: [hq, campaign]", "instances: [hq, campaign, field]")
		}},
	} {
		t.Run(tc.note, func(t *testing.T) {
			dir := testutil.CopyTree(t, "../examples/nation")
			tc.edit(t, dir)
			after := load(t, dir)
			if !after.OK() {
				t.Fatal(after.Problems)
			}
			changes := config.Diff(before.Model, after.Model)
			got, _ := json.MarshalIndent(changes, "", "  ")
			golden(t, filepath.Join("testdata/diff", tc.golden+".golden.json"), string(got)+"\n")
			if back := config.Diff(after.Model, before.Model); len(back) != len(changes) {
				t.Errorf("the reverse diff has %d changes, the diff %d", len(back), len(changes))
			}
		})
	}
}

func TestDiffFromEmpty(t *testing.T) {
	m := load(t, "../examples/portal").Model
	changes := config.Diff(nil, m)
	want := 1 + len(m.Instances) + len(m.Sets) + len(m.Roles) + len(m.Assignments) + len(m.Users)
	if len(changes) != want {
		t.Fatalf("%d changes from an empty model, want %d", len(changes), want)
	}
	for _, c := range changes {
		if c.Action != config.ActionAdd || c.After == nil || c.After.File == "" || c.Before != nil {
			t.Fatalf("change %+v is not an add with its source", c)
		}
	}
	if len(config.Diff(m, nil)) != want {
		t.Fatal("removing everything does not list every object")
	}
}
