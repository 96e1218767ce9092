package decisionlog

import "encoding/json"

// Estimates of the memory Go values take on 64-bit platforms, for entrySize. They follow the
// runtime's layout: an interface is two words, a string or slice header is boxed when stored in
// one, a map has a header and groups of eight slots (key, value, a control byte) kept between
// 7/16 and 7/8 full as it grows (about 2/3 on average), and allocations round up to 8 bytes.
const (
	sizeEntry     = 1024 // the Entry, its ids, revision, path, address, bundles and metrics maps
	sizeInterface = 16
	sizeString    = 16 // a boxed string header
	sizeSlice     = 24 // a boxed slice header
	sizeMap       = 48
	sizeMapSlot   = (2*sizeInterface + 1) * 3 / 2
)

// entrySize estimates the memory an entry holds: its input and result walked once, in time
// proportional to their size (which decoding them already took). It errs on the side of more,
// as values shared with other entries are counted for each.
func entrySize(e *Entry) int64 {
	n := int64(sizeEntry)
	if e.Input != nil {
		n += sizeInterface + valueSize(*e.Input)
	}
	if e.Result != nil {
		n += sizeInterface + valueSize(*e.Result)
	}
	if e.Error != nil {
		n += 2*sizeString + roundUp(len(e.Error.Code)) + roundUp(len(e.Error.Message))
	}
	return n
}

// valueSize estimates what a decoded JSON value (encoding/json's types, numbers as json.Number)
// holds besides the interface that holds it.
func valueSize(v any) int64 {
	switch v := v.(type) {
	case nil, bool:
		return 0 // no allocation
	case string:
		return sizeString + roundUp(len(v))
	case json.Number:
		return sizeString + roundUp(len(v))
	case float64, int, int64:
		return 8
	case []any:
		n := sizeSlice + int64(cap(v))*sizeInterface
		for _, x := range v {
			n += valueSize(x)
		}
		return n
	case map[string]any:
		n := int64(sizeMap) + int64(max(len(v), 8))*sizeMapSlot
		for k, x := range v {
			n += roundUp(len(k)) + valueSize(x)
		}
		return n
	default:
		return sizeSlice
	}
}

func roundUp(n int) int64 { return int64(n+7) &^ 7 }
