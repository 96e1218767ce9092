package engine_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/engine"
)

func nationBundle(t testing.TB, commit string) *engine.Bundle {
	t.Helper()
	res, err := config.LoadDir(context.Background(), "../examples/nation", config.Options{})
	if err != nil || !res.OK() {
		t.Fatalf("load: %v %v", err, res.Problems)
	}
	b, err := engine.NewBundle(res.Model, commit)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadBundleRoundTrip(t *testing.T) {
	b := nationBundle(t, strings.Repeat("ab", 20))
	var buf bytes.Buffer
	if err := b.WriteTarGz(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := engine.ReadBundle(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != b.Revision || got.Commit != b.Commit {
		t.Errorf("revision %s commit %s, want %s %s", got.Revision, got.Commit, b.Revision, b.Commit)
	}
	if len(got.Modules) != len(b.Modules) {
		t.Fatalf("%d modules, want %d", len(got.Modules), len(b.Modules))
	}
	for i := range b.Modules {
		if got.Modules[i].Path != b.Modules[i].Path || !bytes.Equal(got.Modules[i].Raw, b.Modules[i].Raw) {
			t.Errorf("module %d: %s, want %s", i, got.Modules[i].Path, b.Modules[i].Path)
		}
	}
	wantIdx, _ := b.IndexJSON()
	gotIdx, err := got.IndexJSON()
	if err != nil || !bytes.Equal(gotIdx, wantIdx) {
		t.Errorf("the index differs after the round trip (%v)", err)
	}
	for _, p := range []string{"finances=export", "people=read", "nosuch=thing"} {
		if got.KnownPermission(p) != b.KnownPermission(p) {
			t.Errorf("KnownPermission(%s) = %v", p, got.KnownPermission(p))
		}
	}
	// Written again, it is the same file.
	var again bytes.Buffer
	if err := got.WriteTarGz(&again); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("written again, the bundle differs (%v)", err)
	}
	ctx := context.Background()
	e, err := engine.NewEvaluator(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Eval(ctx, "allow", map[string]any{"user": "alice", "instance": "campaign", "permission": "finances=export"}, engine.EvalOptions{})
	if err != nil || r != true {
		t.Errorf("allow from the read bundle: %v %v", r, err)
	}
}

// opaBundle writes an OPA bundle made from a good one, changed by edit.
func opaBundle(t *testing.T, good []byte, edit func(*bundle.Bundle)) []byte {
	t.Helper()
	ob, err := bundle.NewReader(bytes.NewReader(good)).Read()
	if err != nil {
		t.Fatal(err)
	}
	edit(&ob)
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(ob); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarGz writes files into a gzipped tar.
func tarGz(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadBundleFailsClosed(t *testing.T) {
	var buf bytes.Buffer
	if err := nationBundle(t, "").WriteTarGz(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0xff
	manifest := `{"revision": "0123456789abcdef0123456789abcdef", "roots": ["permsets", "permsets_index"], "metadata": {"engine": "` + engine.Version + `", "commit": ""}}`
	mod := "package permsets\n\nallow := true\n"
	for _, tc := range []struct {
		note string
		data []byte
		want string
	}{
		{note: "empty", data: nil, want: "EOF"},
		{note: "not gzip", data: []byte("hello"), want: "EOF"},
		{note: "truncated", data: good[:len(good)*2/3], want: "unexpected EOF"},
		{note: "a flipped byte", data: flipped, want: ""},
		{note: "another engine", data: opaBundle(t, good, func(b *bundle.Bundle) { b.Manifest.Metadata["engine"] = "0.0.1" }), want: "engine"},
		{note: "no revision", data: opaBundle(t, good, func(b *bundle.Bundle) { b.Manifest.Revision = "" }), want: "revision"},
		{note: "a revision that is not a digest", data: opaBundle(t, good, func(b *bundle.Bundle) { b.Manifest.Revision = "v1" }), want: "revision"},
		{note: "another root", data: opaBundle(t, good, func(b *bundle.Bundle) { r := append(*b.Manifest.Roots, "other"); b.Manifest.Roots = &r }), want: "roots"},
		{note: "a commit that is not a hash", data: opaBundle(t, good, func(b *bundle.Bundle) { b.Manifest.Metadata["commit"] = "main; rm -rf" }), want: "commit"},
		{note: "a commit that is not a string", data: opaBundle(t, good, func(b *bundle.Bundle) { b.Manifest.Metadata["commit"] = 7 }), want: "commit"},
		{note: "no rules", data: opaBundle(t, good, func(b *bundle.Bundle) { b.Modules = nil }), want: "no rules"},
		{note: "no data.json", data: tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": mod}), want: "no data.json"},
		{note: "data beside the index", data: tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": mod, "/data.json": `{"permsets_index": {}, "other": 1}`}), want: "alone"},
		{note: "an index that is not an object", data: tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": mod, "/data.json": `{"permsets_index": [1]}`}), want: "not an object"},
		{note: "a second data file", data: tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": mod, "/data.json": `{"permsets_index": {}}`, "/permsets/x/data.json": `{}`}), want: "unexpected data file"},
		{note: "a module of another package", data: tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": "package other\n\nx := 1\n", "/data.json": `{"permsets_index": {}}`}), want: "roots"},
		{note: "a module writing the index", data: tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": "package permsets_index\n\nx := 1\n", "/data.json": `{"permsets_index": {}}`}), want: "outside"},
		{note: "a module that does not parse", data: tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": "package permsets\n\nx := \n", "/data.json": `{"permsets_index": {}}`}), want: "rego_parse_error"},
		{note: "signatures", data: tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": mod, "/data.json": `{"permsets_index": {}}`, "/.signatures.json": `{"signatures": ["x.y.z"]}`}), want: "verification key"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			b, err := engine.ReadBundle(bytes.NewReader(tc.data))
			if err == nil {
				t.Fatalf("read: no error, revision %s", b.Revision)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	// The hand-made archive with a good module is accepted: the cases above fail for the reason
	// each names.
	ok := tarGz(t, map[string]string{"/.manifest": manifest, "/permsets/a.rego": mod, "/data.json": `{"permsets_index": {}}`})
	if _, err := engine.ReadBundle(bytes.NewReader(ok)); err != nil {
		t.Errorf("the minimal bundle: %v", err)
	}
}

// gunzip returns the tar inside a gzipped bundle.
func gunzip(t testing.TB, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzReadBundle reads arbitrary archives: the input as it is, or (gz) the input taken as a tar
// and gzipped here, so that mutations reach the tar and the bundle's files rather than dying on
// the gzip checksum. Nothing panics; a failure is an error with a message; a bundle read has a
// revision digest, at least one module, and an evaluator can be built from it or says why not;
// written again and read back it has the same revision, commit and modules.
func FuzzReadBundle(f *testing.F) {
	var buf bytes.Buffer
	if err := nationBundle(f, strings.Repeat("ab", 20)).WriteTarGz(&buf); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	tarball := gunzip(f, good)
	f.Add(good, false)
	f.Add(tarball, true)
	for _, n := range []int{0, 1, 10, 18, len(good) / 3, len(good) / 2, len(good) - 8, len(good) - 1} {
		f.Add(good[:n], false)
	}
	for _, n := range []int{0, 512, len(tarball) / 2, len(tarball) - 1024, len(tarball) - 1} {
		f.Add(tarball[:n], true)
	}
	manifest := `{"revision": "0123456789abcdef0123456789abcdef", "roots": ["permsets", "permsets_index"], "metadata": {"engine": "` + engine.Version + `", "commit": ""}}`
	f.Add(gunzip(f, tarGz(f, map[string]string{"/.manifest": manifest, "/permsets/a.rego": "package permsets\n\nallow := true\n", "/data.json": `{"permsets_index": {}}`})), true)
	f.Add(gunzip(f, tarGz(f, map[string]string{"/.manifest": manifest, "/permsets/../x.rego": "package permsets\n\nallow := true\n", "/data.json": `{"permsets_index": {}}`})), true)

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte, gz bool) {
		if gz {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(data)
			zw.Close()
			data = z.Bytes()
		}
		b, err := engine.ReadBundle(bytes.NewReader(data))
		if err != nil {
			if b != nil || err.Error() == "" || !strings.HasPrefix(err.Error(), "read bundle: ") {
				t.Fatalf("error %q with bundle %v", err, b)
			}
			return
		}
		if len(b.Revision) != 32 || len(b.Modules) == 0 {
			t.Fatalf("read a bundle with revision %q and %d modules", b.Revision, len(b.Modules))
		}
		for _, m := range b.Modules {
			if !strings.HasPrefix(m.Path, engine.PolicyRoot+"/") || strings.Contains(m.Path, "..") {
				t.Fatalf("module %q outside %s/", m.Path, engine.PolicyRoot)
			}
		}
		if _, err := engine.NewEvaluator(ctx, b); err != nil && err.Error() == "" {
			t.Fatal("NewEvaluator failed without a message")
		}
		var again bytes.Buffer
		if err := b.WriteTarGz(&again); err != nil {
			t.Fatalf("a bundle read cannot be written again: %v", err)
		}
		back, err := engine.ReadBundle(bytes.NewReader(again.Bytes()))
		if err != nil {
			t.Fatalf("a bundle written again cannot be read back: %v", err)
		}
		if back.Revision != b.Revision || back.Commit != b.Commit || len(back.Modules) != len(b.Modules) {
			t.Fatalf("round trip: revision %s commit %q %d modules, want %s %q %d",
				back.Revision, back.Commit, len(back.Modules), b.Revision, b.Commit, len(b.Modules))
		}
		for i := range b.Modules {
			if back.Modules[i].Path != b.Modules[i].Path || !bytes.Equal(back.Modules[i].Raw, b.Modules[i].Raw) {
				t.Fatalf("round trip: module %d is %s, want %s", i, back.Modules[i].Path, b.Modules[i].Path)
			}
		}
	})
}

// TestReadBundleDeclaredSize: a few bytes whose tar header declares a file of nearly
// MaxBundleBytes fail without costing that much memory (OPA's reader allocates what a header
// declares before it reads the file).
func TestReadBundleDeclaredSize(t *testing.T) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	if err := tw.WriteHeader(&tar.Header{Name: "/data.json", Mode: 0o644, Size: engine.MaxBundleBytes - 1, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, `{"permsets_index": {}}`) // and no more: the file is short
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	gz.Write(raw.Bytes())
	gz.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := engine.ReadBundle(bytes.NewReader(z.Bytes()))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("error %v, want unexpected EOF", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("reading %d bytes allocated %d MiB", z.Len(), n>>20)
	}
}

// TestReadBundleSparse: a sparse file (PAX GNU.sparse records, format 0.1, written by Python's
// tarfile) reads as its holes filled with zeros, up to its declared size: these 201 bytes would
// cost 1 GiB in OPA's reader. It is refused, without the cost.
func TestReadBundleSparse(t *testing.T) {
	const sparse = "H4sIAF+3DmsC/+3TuwrCMBjF8cx9ij5BmqS10aHgppO4+ABRO3jphUah+PRWBfGCborg/7fk4ww505GRjIZT145zt8wb8RHq4tWrdGqv9znXyhgtwlZ8wd7vXNPVi/9kTDiazKSvXeNzWbh11WQqeEhXZZfqIFa3qV8d8kwrG9tE900c6MH9T3UWmPQ2KvfFfFstNr4rEPgNS7dzcu2r8oMdp1GnSfJy/8+37cVWhIr9AwAAAAAAAAAAAAAAAG8dAfKX7bYAKAAA"
	data, err := base64.StdEncoding.DecodeString(sparse)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = engine.ReadBundle(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "sparse") {
		t.Errorf("error %v, want a sparse file refused", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("reading %d bytes allocated %d MiB", len(data), n>>20)
	}
}
