package engine

// The fast table: for each (instance, user), a row of two-character cells, one per permission
// the catalog knows, at offset catalog.positions[permission]. A cell answers allow and decision
// where the answer depends on neither the time nor the resource (docs/engine.md):
//
//	"1" + singleAlphabet[i]  allowed through the user's i-th holding alone
//	"1" + maskAlphabet[m]    allowed through the holdings of the bit mask m (m > 0)
//	"1~"                     allowed; the grants are the rule's to list
//	"n~"                     denied: the user holds sets, none of which grants it
//	"d~"                     denied: none of the sets the user holds is enabled
//	"0~"                     denied; the reason is the rule's to give
//	"2~"                     the rule decides
const (
	cellWidth      = 2
	cellRule       = '~'
	singleAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	maskAlphabet   = "0abcdefghijklmnopqrstuvwxyz12345" // position = mask value
	maskBits       = 5                                  // holdings a mask can name
)

// The allow characters of cells, first in each cell.
const (
	fastNone        = '0' // no grant of any kind covers the permission
	fastHeld        = '1' // held with no condition: no expiry, no scope, requirements met
	fastConditional = '2' // held only under conditions: decided by the decision rule
	fastNoGrant     = 'n' // like fastNone, and the user holds some set active at any time
	fastDisabled    = 'd' // like fastNone, and none of the sets the user holds is enabled
)

// How a record covers a position.
const (
	kindNone          = 0
	kindSuperuser     = 's'
	kindUnconditional = 'u'
	kindScoped        = 'c'
)

// rowBuilder computes fast-table rows, reusing its scratch space between users.
type rowBuilder struct {
	idx      *Index
	covers   map[string]*setCover
	requires [][]int
	kinds    [][]byte // per position, how each of the user's records covers it
	held     []bool   // per position, covered without arguments by a permanent record
}

func newRowBuilder(idx *Index, covers map[string]*setCover, requires [][]int) *rowBuilder {
	n := len(idx.catalog.order)
	return &rowBuilder{idx: idx, covers: covers, requires: requires, kinds: make([][]byte, n), held: make([]bool, n)}
}

// row computes a user's row on one instance from their records, sorted and unique by
// compareHoldings: the order of the user's holdings list in the index. It mirrors the decision
// rule (_decision_by_rule in policies/permsets/decision.rego) for the cells it answers; engine
// tests compare the two on every example and on generated repositories.
func (rb *rowBuilder) row(hs []*holding) string {
	kinds, held := rb.kinds, rb.held
	for p := range kinds {
		kinds[p] = kinds[p][:0]
		held[p] = false
	}
	enabledPermanent, enabledExpiring := false, false
	for i, h := range hs {
		for p := range kinds {
			kinds[p] = append(kinds[p], kindNone)
		}
		sc := rb.covers[h.Set]
		if sc == nil || !sc.enabled {
			continue
		}
		permanent := h.ExpiresNs == Never
		enabledPermanent = enabledPermanent || permanent
		enabledExpiring = enabledExpiring || !permanent
		if sc.superuser {
			for p := range kinds {
				kinds[p][i] = kindSuperuser
				held[p] = held[p] || permanent
			}
			continue
		}
		for _, p := range sc.any {
			kinds[p][i] = kindScoped
		}
		for _, p := range sc.unconditional {
			kinds[p][i] = kindUnconditional
			held[p] = held[p] || permanent
		}
	}
	row := make([]byte, 0, len(kinds)*cellWidth)
	for p, ks := range kinds {
		granted := false
		for _, k := range ks {
			granted = granted || k != kindNone
		}
		switch {
		case !granted && enabledPermanent:
			row = append(row, fastNoGrant, cellRule) // some holding is active at any time
		case !granted && !enabledExpiring:
			row = append(row, fastDisabled, cellRule) // no holding is enabled
		case !granted:
			row = append(row, fastNone, cellRule) // whether any is active depends on the time
		case held[p] && allPositions(rb.requires[p], held):
			row = append(row, fastHeld, grantMask(hs, ks))
		default:
			row = append(row, fastConditional, cellRule)
		}
	}
	return string(row)
}

// grantMask names the records that grant a position held unconditionally, one per set and via
// (the rule's grants are a set of {set, via}): one record by its index, several by a bit mask;
// or cellRule when the grants depend on the time or the resource (an expiring or scoped record
// covers it) or a record is past the alphabets' reach.
func grantMask(hs []*holding, kinds []byte) byte {
	mask, n, first, reach := 0, 0, 0, true
	var last *holding
	for i, k := range kinds {
		if k == kindNone {
			continue
		}
		if k == kindScoped || hs[i].ExpiresNs != Never {
			return cellRule
		}
		if last != nil && last.Set == hs[i].Set && last.Via == hs[i].Via {
			continue
		}
		last = hs[i]
		if n == 0 {
			first = i
		}
		n++
		if i < maskBits {
			mask |= 1 << i
		} else {
			reach = false
		}
	}
	switch {
	case n == 1 && first < len(singleAlphabet):
		return singleAlphabet[first]
	case n > 1 && reach:
		return maskAlphabet[mask]
	default:
		return cellRule
	}
}

func allPositions(positions []int, held []bool) bool {
	for _, p := range positions {
		if !held[p] {
			return false
		}
	}
	return true
}
