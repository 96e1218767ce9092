package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/policies"
)

// Version is the engine version; it is part of every revision digest, so a new engine gives a
// new revision even for unchanged config.
const Version = "0.3.0"

// PolicyRoot is the data path of the evaluation rules: data.permsets.
const PolicyRoot = "permsets"

// Module is one Rego file of the bundle.
type Module struct {
	Path string // slash path inside the bundle, e.g. permsets/decision.rego
	Raw  []byte
}

// Modules returns the embedded evaluation rules (package permsets), without their tests or the
// change rules of plan, sorted by path.
func Modules() ([]Module, error) { return modulesUnder(".", PlanPolicyDir) }

// PlanPolicyDir holds the change rules (package permsets.plan): used by plan, not served.
const PlanPolicyDir = "permsets/plan"

// PlanModules returns the embedded change rules, without their tests, sorted by path.
func PlanModules() ([]Module, error) { return modulesUnder(PlanPolicyDir, "") }

func modulesUnder(dir, skip string) ([]Module, error) {
	var out []Module
	if _, err := fs.Stat(policies.FS, dir); err != nil {
		return nil, nil // no such rules embedded
	}
	err := fs.WalkDir(policies.FS, dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p == skip {
			return fs.SkipDir
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return err
		}
		raw, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		out = append(out, Module{Path: p, Raw: raw})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

// Bundle is a compiled revision: the index (as the AST value the rules read), the rules, and the
// revision digest. The index is held once: every evaluator of the bundle reads this same
// immutable value from its store, and its JSON is written only when a bundle file is asked for.
type Bundle struct {
	Modules  []Module
	Revision string
	Commit   string          // the Git commit, when there is one
	index    ast.Object      // data.permsets_index; never modified
	known    map[string]bool // the catalog's permissions; nil without a catalog

	tarGz struct { // the bundle file, written on first demand (see TarGz)
		once sync.Once
		data []byte
		err  error
	}
}

// KnownPermission reports whether the catalog knows a feature=action permission; without a
// catalog every well-formed permission is known.
func (b *Bundle) KnownPermission(p string) bool { return b.known == nil || b.known[p] }

// NewBundle compiles a valid model into a bundle. commit may be empty.
func NewBundle(m *config.Model, commit string) (*Bundle, error) {
	return NewBundleWithRevision(m, commit, "")
}

// NewBundleWithRevision is NewBundle for a caller that already has the model's RevisionOf (a
// reloader checking for no-op changes): the model is not serialised a second time.
func NewBundleWithRevision(m *config.Model, commit, rev string) (*Bundle, error) {
	return new(Compiler).Bundle(context.Background(), m, commit, rev)
}

// newBundle wraps a compiled index value into a bundle; rev "" is computed from the model.
func newBundle(m *config.Model, commit, rev string, index ast.Object, idx *Index) (*Bundle, error) {
	mods, err := Modules()
	if err != nil {
		return nil, err
	}
	if rev == "" {
		if rev, err = revision(m, mods); err != nil {
			return nil, err
		}
	}
	b := &Bundle{Modules: mods, Revision: rev, Commit: commit, index: index}
	if idx.catalog != nil {
		b.known = idx.catalog.Known
	}
	return b, nil
}

// RevisionOf is the revision digest a bundle of the model would carry, without compiling it.
func RevisionOf(m *config.Model) (string, error) {
	mods, err := Modules()
	if err != nil {
		return "", err
	}
	return revision(m, mods)
}

// revision digests the normalized model, the rules and the engine version.
func revision(m *config.Model, mods []Module) (string, error) {
	model, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "permsets engine %s\n", Version)
	h.Write(model)
	for _, mod := range mods {
		fmt.Fprintf(h, "\n%s %d\n", mod.Path, len(mod.Raw))
		h.Write(mod.Raw)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// IndexJSON is the index as JSON (data.permsets_index), written from its AST value on each call.
func (b *Bundle) IndexJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, b.index); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteTarGz writes the bundle file (TarGz) to w.
func (b *Bundle) WriteTarGz(w io.Writer) error {
	data, err := b.TarGz()
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// TarGz is the bundle file: a standard OPA bundle with .manifest (revision, roots), data.json
// holding the index under permsets_index, and the rules. It is written once per bundle, on first
// demand, and kept compressed: a large repository's takes seconds to write, and permsd's
// /bundles and its persistence both ask for it after every reload.
func (b *Bundle) TarGz() ([]byte, error) {
	b.tarGz.once.Do(func() {
		tarGzWrites.Add(1)
		var buf bytes.Buffer
		if b.tarGz.err = b.writeTarGz(&buf); b.tarGz.err == nil {
			b.tarGz.data = buf.Bytes()
		}
	})
	return b.tarGz.data, b.tarGz.err
}

// tarGzWrites counts bundle files written, for tests.
var tarGzWrites atomic.Int64

func (b *Bundle) writeTarGz(w io.Writer) error {
	index, err := b.IndexJSON()
	if err != nil {
		return err
	}
	data := map[string]any{IndexRoot: json.RawMessage(index)}
	roots := []string{PolicyRoot, IndexRoot}
	ob := bundle.Bundle{
		Manifest: bundle.Manifest{Revision: b.Revision, Roots: &roots, Metadata: map[string]any{"commit": b.Commit, "engine": Version}},
		Data:     data,
	}
	for _, m := range b.Modules {
		parsed, err := ast.ParseModuleWithOpts(m.Path, string(m.Raw), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		ob.Modules = append(ob.Modules, bundle.ModuleFile{URL: "/" + m.Path, Path: "/" + path.Clean(m.Path), Raw: m.Raw, Parsed: parsed})
	}
	return bundle.NewWriter(w).Write(ob)
}
