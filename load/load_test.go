package load_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
	"github.com/permsets/permsets/internal/testutil"
	"github.com/permsets/permsets/load"
)

const nation = "../examples/nation"

// TestLoad: a working tree, a Git revision and an empty load each give what config.LoadDir,
// source.AtRevision and engine.RevisionOf give, with the files readable through FS until Close.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	want, err := config.LoadDir(ctx, nation, config.Options{})
	if err != nil || !want.OK() {
		t.Fatalf("LoadDir: %v, %v", err, want.Problems)
	}
	rev, err := engine.RevisionOf(want.Model)
	if err != nil {
		t.Fatal(err)
	}
	remote := testutil.NewGitRemote(t, nation)
	commit := remote.Commit("a custom rule", "access/policies/x.rego", "package permsets.custom.x\n")
	for _, tc := range []struct {
		note         string
		spec         load.Spec
		commit, ref  string
		withRevision bool
	}{
		{note: "working tree", spec: load.Spec{Dir: nation}, withRevision: true},
		{note: "working tree, no revision", spec: load.Spec{Dir: nation}},
		{note: "git revision", spec: load.Spec{Dir: filepath.Join(remote.Work, "access"), Rev: "HEAD"}, commit: commit, ref: "HEAD", withRevision: true},
	} {
		t.Run(tc.note, func(t *testing.T) {
			cache := config.NewCache()
			l, err := load.Load(ctx, tc.spec, load.Options{Cache: cache, Revision: tc.withRevision})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if l.Empty || l.Result == nil || !l.Result.OK() || l.Model() != l.Result.Model || l.Result.Files != want.Files {
				t.Fatalf("loaded %+v, want %d files and no problem", l, want.Files)
			}
			if wantRev := map[bool]string{true: rev}[tc.withRevision]; l.Revision != wantRev {
				t.Errorf("revision %q, want %q", l.Revision, wantRev)
			}
			if l.Commit != tc.commit || l.Ref != tc.ref {
				t.Errorf("commit %q ref %q, want %q %q", l.Commit, l.Ref, tc.commit, tc.ref)
			}
			if _, err := fs.Stat(l.FS, "catalog.yaml"); err != nil {
				t.Errorf("FS: %v", err)
			}
			if err := l.Close(); err != nil {
				t.Error(err)
			}
			if err := l.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}

	l, err := load.Load(ctx, load.Spec{Empty: true}, load.Options{Revision: true})
	if err != nil || !l.Empty || l.Result != nil || l.FS != nil || l.Model() != nil || l.Revision != "" || l.Close() != nil {
		t.Errorf("empty: %+v, %v", l, err)
	}
}

// TestLoadErrors: the errors are those of config.LoadDir and source.AtRevision, word for word.
func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "nowhere")
	_, want := config.LoadDir(ctx, missing, config.Options{})
	_, err := load.Load(ctx, load.Spec{Dir: missing}, load.Options{})
	if err == nil || want == nil || err.Error() != want.Error() {
		t.Errorf("missing root: %v, want %v", err, want)
	}
	remote := testutil.NewGitRemote(t, nation)
	_, err = load.Load(ctx, load.Spec{Dir: filepath.Join(remote.Work, "access"), Rev: "no-such-branch"}, load.Options{})
	if err == nil || err.Error() != `unknown revision "no-such-branch"` {
		t.Errorf("unknown revision: %v", err)
	}
	outside := t.TempDir()
	if err := os.CopyFS(filepath.Join(outside, "root"), os.DirFS(nation)); err != nil {
		t.Fatal(err)
	}
	target, err := filepath.Abs(filepath.Join(nation, "catalog.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(outside, "root", "linked.yaml")); err != nil {
		t.Fatal(err)
	}
	l, err := load.Load(ctx, load.Spec{Dir: filepath.Join(outside, "root")}, load.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if len(l.Result.Problems) != 1 || l.Result.Problems[0].Code != config.CodeOutsideRoot || !strings.HasPrefix(l.Result.Problems[0].File, "linked") {
		t.Errorf("a link out of the root: %v, want one %s problem", l.Result.Problems, config.CodeOutsideRoot)
	}
}
