package server

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permsets/permsets/daemon/decisionlog"
)

// TestSwapWhileServing publishes new revisions while 8 clients ask: every answer comes from one
// published revision (its result is that revision's, its provenance names it, its decision-log
// entry too), and no client ever sees its generation go backwards.
func TestSwapWhileServing(t *testing.T) {
	f := newFixture(t, false, nil)
	// Two revisions that answer devon's settings=read on hq differently, published in turn.
	a, b := nationSnapshot(t, 0), devonAdminSnapshot(t, 0)
	if a.Revision == b.Revision {
		t.Fatal("the two revisions have one digest")
	}
	wantByRevision := map[string]bool{a.Revision: false, b.Revision: true}
	var published sync.Map // generation -> revision
	published.Store(uint64(1), f.state.Current().Revision)

	const clients, perClient = 8, 60
	var done atomic.Bool
	var gens atomic.Uint64
	gens.Store(1)
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for gen := uint64(2); !done.Load(); gen++ {
			base := a
			if gen%2 == 0 {
				base = b
			}
			snap := *base
			snap.Generation, snap.LoadedAt = gen, time.Now()
			published.Store(gen, snap.Revision) // before it can be served
			f.state.Publish(&snap)
			gens.Store(gen)
			time.Sleep(200 * time.Microsecond)
		}
	}()

	type seen struct {
		id       string
		gen      uint64
		revision string
	}
	results := make([][]seen, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	body := `{"input": {"user": "devon", "instance": "hq", "permission": "settings=read"}}`
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := uint64(0)
			client := f.srv.Client()
			for i := range perClient {
				path := "/v1/data/permsets/allow?provenance"
				batch := i%5 == 4
				if batch {
					path = "/v1/batch/data/permsets/allow?provenance"
				}
				payload := body
				if batch {
					payload = `{"inputs": {"x": {"user": "devon", "instance": "hq", "permission": "settings=read"}, "y": {"user": "devon", "instance": "hq", "permission": "settings=read"}}}`
				}
				res, err := client.Post(f.srv.URL+path, "application/json", stringsReader(payload))
				if err != nil {
					errs <- err
					return
				}
				var resp map[string]any
				err = json.NewDecoder(res.Body).Decode(&resp)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 {
					errs <- fmt.Errorf("status %d, %v", res.StatusCode, err)
					return
				}
				items := []map[string]any{resp}
				if batch {
					items = nil
					for _, it := range resp["responses"].(map[string]any) {
						items = append(items, it.(map[string]any))
					}
				}
				var batchGen uint64
				for _, it := range items {
					p := it["provenance"].(map[string]any)
					gen := uint64(p["generation"].(float64))
					rev := p["revision"].(string)
					pub, ok := published.Load(gen)
					if !ok || pub != rev {
						errs <- fmt.Errorf("generation %d with revision %s was never published (%v)", gen, rev, pub)
						return
					}
					if it["result"] != wantByRevision[rev] {
						errs <- fmt.Errorf("generation %d (%s) answered %v", gen, rev, it["result"])
						return
					}
					if gen < last {
						errs <- fmt.Errorf("client %d: generation %d after %d", c, gen, last)
						return
					}
					if batch && batchGen != 0 && gen != batchGen {
						errs <- fmt.Errorf("one batch answered on generations %d and %d", batchGen, gen)
						return
					}
					batchGen = gen
					results[c] = append(results[c], seen{it["decision_id"].(string), gen, rev})
				}
				last = batchGen
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	<-pubDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The decision log names the revision each answer was made on.
	byID := map[string]decisionlog.Entry{}
	for _, e := range f.log.all() {
		byID[e.DecisionID] = e
	}
	distinct := map[uint64]bool{}
	total := 0
	for _, rs := range results {
		for _, s := range rs {
			e, ok := byID[s.id]
			if !ok || e.Generation != s.gen || e.Revision != s.revision {
				t.Fatalf("answer %+v, logged %+v", s, e)
			}
			distinct[s.gen] = true
			total++
		}
	}
	if len(distinct) < 3 {
		t.Fatalf("answers saw only %d generations of %d published: the swap was not exercised", len(distinct), gens.Load())
	}
	t.Logf("%d answers over %d generations (%d published)", total, len(distinct), gens.Load())
}
