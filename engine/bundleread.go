package engine

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
)

// MaxBundleBytes bounds what ReadBundle reads: the compressed input, each file in it and all of
// them together, decompressed (OPA's own default limit for one bundle file).
const MaxBundleBytes = bundle.DefaultSizeLimitBytes

var (
	revisionPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	commitPattern   = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})?$`)
)

// ReadBundle reads back a bundle written by Bundle.WriteTarGz (permsd's persisted last good
// revision). It fails closed: anything WriteTarGz would not have written is an error, not
// skipped — a manifest whose roots are not exactly permsets and permsets_index, a revision that is
// not a digest, an engine version other than this one (the revision digest covers the engine, so
// another engine's bundle is not a revision this one serves), a data.json holding anything but
// the index object, a Rego module outside permsets/ or of another package, wasm, plans, patches
// or signatures, a truncated or oversized archive. The index is decoded straight into the AST
// value evaluators read; the modules are checked to parse (NewEvaluator compiles them).
func ReadBundle(r io.Reader) (*Bundle, error) {
	raw, err := io.ReadAll(io.LimitReader(r, MaxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	if int64(len(raw)) > MaxBundleBytes {
		return nil, fmt.Errorf("read bundle: larger than %d bytes", MaxBundleBytes)
	}
	// OPA's reader caps each file but not their sum: check the whole archive decompresses, within
	// the limit, before handing it over.
	if err := checkGzip(raw); err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	ob, err := bundle.NewReader(bytes.NewReader(raw)).
		WithLazyLoadingMode(true). // data.json stays raw JSON
		// Not skipping verification, with no key: a bundle that carries signatures fails.
		WithRegoVersion(ast.RegoV1).
		WithSizeLimitBytes(MaxBundleBytes).
		Read()
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	b, err := fromOPABundle(&ob)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	return b, nil
}

// checkGzip reads the gzip stream to its end, failing when it is corrupt, truncated or
// decompresses to more than MaxBundleBytes, or when a file of the tar inside is shorter than its
// header says or is sparse: OPA's reader allocates the size a header declares before reading the
// file, and fills a sparse file's holes, so a few bytes declaring a large file would cost that
// much memory.
func checkGzip(raw []byte) error {
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	lr := &io.LimitedReader{R: gz, N: MaxBundleBytes + 1}
	tooLarge := func(err error) error {
		if lr.N <= 0 {
			return fmt.Errorf("decompresses to more than %d bytes", MaxBundleBytes)
		}
		return err
	}
	tr := tar.NewReader(lr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return tooLarge(err)
		}
		if hdr.Size > MaxBundleBytes {
			return fmt.Errorf("%s is larger than %d bytes", hdr.Name, MaxBundleBytes)
		}
		left := lr.N
		n, err := io.Copy(io.Discard, tr)
		if err != nil {
			return tooLarge(err)
		}
		if n > left-lr.N {
			return fmt.Errorf("%s is a sparse file: not a permsets bundle", hdr.Name)
		}
	}
	if _, err := io.Copy(io.Discard, lr); err != nil || lr.N <= 0 {
		return tooLarge(err)
	}
	return gz.Close()
}

func fromOPABundle(ob *bundle.Bundle) (*Bundle, error) {
	m := &ob.Manifest
	if !revisionPattern.MatchString(m.Revision) {
		return nil, fmt.Errorf("manifest revision %q is not a permsets revision digest", m.Revision)
	}
	if m.Roots == nil {
		return nil, errors.New("manifest has no roots")
	}
	roots := slices.Clone(*m.Roots)
	sort.Strings(roots)
	if want := []string{PolicyRoot, IndexRoot}; !slices.Equal(roots, want) {
		return nil, fmt.Errorf("manifest roots %q: want %q", *m.Roots, want)
	}
	if v, _ := m.Metadata["engine"].(string); v != Version {
		return nil, fmt.Errorf("written by engine %q, this is engine %s", m.Metadata["engine"], Version)
	}
	commit, ok := m.Metadata["commit"].(string)
	if !ok && m.Metadata["commit"] != nil || !commitPattern.MatchString(commit) {
		return nil, fmt.Errorf("manifest commit %q is not a Git commit hash", m.Metadata["commit"])
	}
	if len(m.WasmResolvers) > 0 || len(ob.WasmModules) > 0 || len(ob.PlanModules) > 0 || len(ob.Patch.Data) > 0 {
		return nil, errors.New("holds wasm, plans or patches: not a permsets bundle")
	}
	if ob.Type() != bundle.SnapshotBundleType {
		return nil, errors.New("not a snapshot bundle")
	}

	var data []byte
	seenData := false
	for _, r := range ob.Raw {
		if strings.HasSuffix(r.Path, ".rego") {
			continue // read from ob.Modules below
		}
		if r.Path != "/data.json" || seenData {
			return nil, fmt.Errorf("unexpected data file %s", r.Path)
		}
		seenData = true
		var top map[string]json.RawMessage
		if err := json.Unmarshal(r.Value, &top); err != nil {
			return nil, fmt.Errorf("data.json: %w", err)
		}
		idx, ok := top[IndexRoot]
		if len(top) != 1 || !ok {
			return nil, fmt.Errorf("data.json must hold %s alone", IndexRoot)
		}
		if t := bytes.TrimSpace(idx); len(t) == 0 || t[0] != '{' {
			return nil, fmt.Errorf("data.json: %s is not an object", IndexRoot)
		}
		data = idx
	}
	if !seenData {
		return nil, errors.New("no data.json")
	}

	index, err := indexFromJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("data.json: %w", err)
	}
	b := &Bundle{Revision: m.Revision, Commit: commit, index: index, known: knownOf(index)}
	policyPath := ast.DefaultRootDocument.Value.(ast.Var).String() + "." + PolicyRoot
	for _, mf := range ob.Modules {
		p := strings.TrimPrefix(mf.Path, "/")
		if !strings.HasPrefix(p, PolicyRoot+"/") || !strings.HasSuffix(p, ".rego") || strings.Contains(p, "..") {
			return nil, fmt.Errorf("module %s is not under %s/", mf.Path, PolicyRoot)
		}
		if mf.Parsed == nil {
			return nil, fmt.Errorf("module %s did not parse", mf.Path)
		}
		if pkg := mf.Parsed.Package.Path.String(); pkg != policyPath && !strings.HasPrefix(pkg, policyPath+".") {
			return nil, fmt.Errorf("module %s is package %s, outside %s", mf.Path, pkg, policyPath)
		}
		b.Modules = append(b.Modules, Module{Path: p, Raw: slices.Clone(mf.Raw)})
	}
	if len(b.Modules) == 0 {
		return nil, errors.New("no rules")
	}
	sort.Slice(b.Modules, func(i, j int) bool { return b.Modules[i].Path < b.Modules[j].Path })
	for i := 1; i < len(b.Modules); i++ {
		if b.Modules[i].Path == b.Modules[i-1].Path {
			return nil, fmt.Errorf("module %s twice", b.Modules[i].Path)
		}
	}

	return b, nil
}
