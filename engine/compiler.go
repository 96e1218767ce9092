package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/parallel"
	"github.com/permsets/permsets/internal/sorted"
)

// Compiler compiles successive revisions of one repository (a daemon's reloads) and reuses what
// a change did not touch: an instance whose inputs (its name and sets, every holding record of
// every user on it, those users' suspension, the sets they hold, the catalog) are unchanged
// keeps the index value it had, and so does a set whose definition is unchanged. After a
// one-line edit most of a large repository is not compiled again.
//
// The inputs are compared by SHA-256 fingerprint, so reuse never depends on object identity.
// The zero value is ready; it is safe for concurrent use (compilations are serialised).
type Compiler struct {
	mu        sync.Mutex
	catalog   [32]byte
	sets      map[string]memo // by set id, from the last compilation
	instances map[string]memo // by instance id
	stats     CompileStats
}

// memo is a part of the last compilation: its inputs' fingerprint and its index value.
type memo struct {
	fp   [32]byte
	term *ast.Term
}

// CompileStats say how much of the last compilation was reused.
type CompileStats struct {
	Instances, InstancesReused int
	Sets, SetsReused           int
}

// LastStats are the stats of the last successful compilation.
func (c *Compiler) LastStats() CompileStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Bundle compiles a valid model into a bundle, as NewBundleWithRevision does, reusing the parts
// of the previous compilation that did not change. rev may be "" (it is computed then).
func (c *Compiler) Bundle(ctx context.Context, m *config.Model, commit, rev string) (*Bundle, error) {
	b, _, err := c.compile(ctx, m, commit, rev)
	return b, err
}

// NewBundleAndIndex is NewBundle that also returns the index the bundle is compiled from, for
// a caller that reads the same model through the index's accessors besides evaluating it
// (plan: the access diff evaluates a side, and its change rules read the sets' grants): the
// model is compiled once.
func NewBundleAndIndex(m *config.Model, commit string) (*Bundle, *Index, error) {
	// A new Compiler reuses nothing, so every instance of the index is finished.
	return new(Compiler).compile(context.Background(), m, commit, "")
}

// compile is Bundle, with the index it compiled (in which only the instances not reused are
// finished).
func (c *Compiler) compile(ctx context.Context, m *config.Model, commit, rev string) (*Bundle, *Index, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	idx, err := prepare(m)
	if err != nil {
		return nil, nil, err
	}
	catalogFP, err := fingerprintCatalog(m.Catalog)
	if err != nil {
		return nil, nil, err
	}
	if catalogFP != c.catalog {
		c.sets, c.instances = nil, nil // everything depends on the catalog
	}

	t := newTerms(nil)
	setFPs := make(map[string][32]byte, len(m.Sets))
	setTerms := make(map[string]*ast.Term, len(m.Sets))
	stats := CompileStats{Sets: len(m.Sets), Instances: len(idx.instances)}
	for _, s := range m.Sets {
		t.str(s.ID)
		fp := fingerprintSet(catalogFP, s)
		setFPs[s.ID] = fp
		if old, ok := c.sets[s.ID]; ok && old.fp == fp {
			setTerms[s.ID] = old.term
			stats.SetsReused++
		} else {
			setTerms[s.ID] = idx.sets[s.ID].value(t)
		}
	}

	ids := sorted.Keys(idx.instances)
	fps := make([][32]byte, len(ids))
	for _, id := range ids {
		for u := range idx.instances[id].held {
			t.str(u)
		}
	}
	instances := make([]*ast.Term, len(ids))
	reused := make([]bool, len(ids))
	if err := parallel.Each(ctx, len(ids), 0, func(i int) {
		ii := idx.instances[ids[i]]
		fps[i] = idx.fingerprintInstance(catalogFP, ii, setFPs)
		if old, ok := c.instances[ids[i]]; ok && old.fp == fps[i] {
			instances[i], reused[i] = old.term, true
			return
		}
		idx.finishInstance(ii)
		instances[i] = ii.value(newTerms(t))
	}); err != nil {
		return nil, nil, err
	}

	pairs := make([][2]*ast.Term, len(ids))
	for i, id := range ids {
		pairs[i] = [2]*ast.Term{t.str(id), instances[i]}
		if reused[i] {
			stats.InstancesReused++
		}
	}
	top := [][2]*ast.Term{
		{t.str("sets"), object(t, setTerms, func(term *ast.Term) *ast.Term { return term })},
		{t.str("instances"), ast.NewTerm(ast.NewObject(pairs...))},
		{t.str("suspended"), object(t, idx.suspended, boolTerm)},
		{t.str("identities"), idx.ids.value(t)},
	}
	if idx.catalog != nil {
		top = append(top, [2]*ast.Term{t.str("catalog"), idx.catalog.value(t)})
	}
	b, err := newBundle(m, commit, rev, ast.NewObject(top...), idx)
	if err != nil {
		return nil, nil, err
	}

	c.catalog = catalogFP
	c.sets = make(map[string]memo, len(setFPs))
	for id, fp := range setFPs {
		c.sets[id] = memo{fp: fp, term: setTerms[id]}
	}
	c.instances = make(map[string]memo, len(ids))
	for i, id := range ids {
		c.instances[id] = memo{fp: fps[i], term: instances[i]}
	}
	c.stats = stats
	return b, idx, nil
}

// fingerprintCatalog digests the catalog (nil: no catalog) with the engine version.
func fingerprintCatalog(cat *config.Catalog) ([32]byte, error) {
	d := newDigest([32]byte{})
	d.strings("engine " + Version)
	if cat != nil {
		raw, err := json.Marshal(cat)
		if err != nil {
			return [32]byte{}, err
		}
		d.bytes(raw)
	}
	return d.sum(), nil
}

// fingerprintSet digests what compileSet reads of a set.
func fingerprintSet(catalog [32]byte, s *config.PermissionSet) [32]byte {
	d := newDigest(catalog)
	d.strings(s.ID, s.Name)
	d.bool(s.Enabled)
	for _, p := range s.Parsed {
		d.strings(p.String())
	}
	return d.sum()
}

// fingerprintInstance digests everything finishInstance and the instance's value read: its
// name and sets, every user's sorted holding records with the fingerprints of their sets, and
// the users' suspension.
func (idx *Index) fingerprintInstance(catalog [32]byte, ii *instanceIndex, setFPs map[string][32]byte) [32]byte {
	d := newDigest(catalog)
	d.strings(ii.Name)
	d.int(int64(len(ii.Sets)))
	for _, s := range ii.Sets {
		fp := setFPs[s]
		d.strings(s)
		d.bytes(fp[:])
	}
	referenced := map[string]bool{}
	users := sorted.Keys(ii.held)
	d.int(int64(len(users)))
	for _, u := range users {
		hs := ii.held[u]
		d.strings(u)
		d.bool(idx.suspended[u])
		d.int(int64(len(hs)))
		for _, r := range hs {
			d.strings(r.Set, r.Via, r.Source)
			d.int(r.ExpiresNs)
			referenced[r.Set] = true
		}
	}
	for _, s := range sorted.Keys(referenced) {
		fp, ok := setFPs[s]
		d.strings(s)
		d.bool(ok)
		d.bytes(fp[:])
	}
	return d.sum()
}

// digest is a SHA-256 of length-prefixed fields, written through a buffer: fingerprints take
// millions of short fields.
type digest struct {
	h   hash.Hash
	buf []byte
}

func newDigest(seed [32]byte) *digest {
	d := &digest{h: sha256.New(), buf: make([]byte, 0, 256)} // grows to 60 KiB at most
	d.bytes(seed[:])
	return d
}

func (d *digest) flush() {
	if len(d.buf) >= 60<<10 {
		d.h.Write(d.buf)
		d.buf = d.buf[:0]
	}
}

func (d *digest) bytes(b []byte) {
	d.buf = append(d.buf, b...)
	d.flush()
}

func (d *digest) strings(ss ...string) {
	for _, s := range ss {
		d.buf = binary.LittleEndian.AppendUint64(d.buf, uint64(len(s)))
		d.buf = append(d.buf, s...)
	}
	d.flush()
}

func (d *digest) int(n int64) {
	d.buf = binary.LittleEndian.AppendUint64(d.buf, uint64(n))
	d.flush()
}

func (d *digest) bool(v bool) {
	if v {
		d.buf = append(d.buf, 1)
	} else {
		d.buf = append(d.buf, 0)
	}
	d.flush()
}

func (d *digest) sum() (out [32]byte) {
	d.h.Write(d.buf)
	copy(out[:], d.h.Sum(nil))
	return out
}
