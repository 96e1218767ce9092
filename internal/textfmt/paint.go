package textfmt

// Painter colours text for a terminal with ANSI SGR codes; the zero value paints nothing. It
// paints text that is already safe (Terminal): colour is added after escaping, never before.
type Painter struct{ On bool }

// Paint wraps s in the SGR code (e.g. "31" red) when the painter is on.
func (p Painter) Paint(code, s string) string {
	if !p.On {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Bold, Red, Green and Yellow are the colours the outputs use.
func (p Painter) Bold(s string) string   { return p.Paint("1", s) }
func (p Painter) Red(s string) string    { return p.Paint("31", s) }
func (p Painter) Green(s string) string  { return p.Paint("32", s) }
func (p Painter) Yellow(s string) string { return p.Paint("33", s) }

// ShortLen is how many hex digits of a digest or commit a person is shown.
const ShortLen = 12

// Short is a digest or commit hash cut to ShortLen characters for people (the JSON outputs keep
// the whole value).
func Short(h string) string {
	if len(h) > ShortLen {
		return h[:ShortLen]
	}
	return h
}
