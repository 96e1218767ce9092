package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/synth"
	"github.com/permsets/permsets/internal/testutil"
)

// TestIndexValueMatchesJSON holds the AST value the store gets to what decoding the index's
// JSON gives, on every example and a generated repository, and the JSON written back from the
// value to the same document: a field added to the index and forgotten in value.go fails here.
func TestIndexValueMatchesJSON(t *testing.T) {
	gen := testutil.Generated(t, synth.Options{Instances: 3, Sets: 60, Users: 200, Roles: 8, Pairs: 2000})
	dirs, _ := filepath.Glob("../examples/*")
	dirs = append(dirs, gen)
	checked := 0
	for _, dir := range dirs {
		res, err := config.LoadDir(context.Background(), dir, config.Options{})
		if err != nil || !res.OK() || len(res.Model.Instances) == 0 {
			continue // not a config repository (e.g. a README-only directory)
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			idx, err := Compile(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(idx)
			if err != nil {
				t.Fatal(err)
			}
			var decoded any
			if err := util.NewJSONDecoder(bytes.NewReader(raw)).Decode(&decoded); err != nil {
				t.Fatal(err)
			}
			want, err := ast.InterfaceToValue(decoded)
			if err != nil {
				t.Fatal(err)
			}
			b, err := new(Compiler).Bundle(context.Background(), res.Model, "", "")
			if err != nil {
				t.Fatal(err)
			}
			got := b.index
			if got.Compare(want) != 0 {
				t.Fatalf("index value differs from its JSON:\n got %.2000v\nwant %.2000v", got, want)
			}
			known := knownOf(got)
			if idx.catalog == nil && known != nil || idx.catalog != nil && !maps.Equal(known, idx.catalog.Known) {
				t.Fatalf("knownOf the value: %d permissions, the catalog knows %v", len(known), idx.catalog != nil)
			}
			var buf bytes.Buffer
			if err := writeJSON(&buf, got); err != nil {
				t.Fatal(err)
			}
			back, err := indexFromJSON(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if back.Compare(want) != 0 {
				t.Fatal("the JSON written from the value decodes to another index")
			}
		})
		checked++
	}
	if checked < 5 {
		t.Fatalf("only %d repositories checked", checked)
	}
}

func TestWriteJSONRefusesWhatJSONCannotHold(t *testing.T) {
	for _, v := range []ast.Value{
		ast.NewObject([2]*ast.Term{ast.IntNumberTerm(1), ast.StringTerm("x")}),
		ast.NewSet(ast.StringTerm("x")),
		ast.MustParseRef("data.x"),
	} {
		var buf bytes.Buffer
		if err := writeJSON(&buf, v); err == nil {
			t.Errorf("%v: written as %s, want an error", v, buf.String())
		}
	}
	var buf bytes.Buffer
	v := ast.MustParseTerm(`{"b": {"y": 1, "x": "plain"}, "a": ["x\u2028\"<", 1, 2.5, true, null]}`).Value
	if err := writeJSON(&buf, v); err != nil || buf.String() != `{"a":["x\u2028\"\u003c",1,2.5,true,null],"b":{"x":"plain","y":1}}` {
		t.Errorf("got %s, %v", buf.String(), err)
	}
}

// TestTarGzOnce: the bundle file is written once per bundle however many ask at once (permsd's
// /bundles for every polling agent, and its persistence), and they all get the same bytes.
func TestTarGzOnce(t *testing.T) {
	res, err := config.LoadDir(context.Background(), "../examples/nation", config.Options{})
	if err != nil || !res.OK() {
		t.Fatal(err)
	}
	b, err := NewBundle(res.Model, "")
	if err != nil {
		t.Fatal(err)
	}
	before := tarGzWrites.Load()
	const callers = 8
	files := make([][]byte, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			if err := b.WriteTarGz(&buf); err != nil {
				t.Error(err)
			}
			files[i] = buf.Bytes()
		}()
	}
	wg.Wait()
	if n := tarGzWrites.Load() - before; n != 1 {
		t.Errorf("written %d times for %d callers, want once", n, callers)
	}
	for i := range files {
		if len(files[i]) == 0 || !bytes.Equal(files[i], files[0]) {
			t.Fatalf("caller %d got another file", i)
		}
	}
}
