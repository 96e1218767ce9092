// Package jsondepth bounds how deeply a JSON request nests before anything decodes it: the one
// check for permsd's Data API and its AuthZEN endpoints.
package jsondepth

// Exceeds reports whether arrays and objects nest more than limit deep in raw. It only counts
// brackets outside strings, so it is linear, allocates nothing and runs before any decoding.
func Exceeds(raw []byte, limit int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range raw {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > limit {
				return true
			}
		case ']', '}':
			depth--
		}
	}
	return false
}
