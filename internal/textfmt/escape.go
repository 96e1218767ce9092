// Package textfmt is how permsets' text outputs are formatted: untrusted strings (anything read
// from a config repository: ids, names, file names, custom rules' findings) made safe to print on
// one output medium, a terminal (Terminal) or a Markdown document such as a pull-request comment
// (Markdown, MarkdownCode, MarkdownFenced); colour on a terminal (Painter); digests shortened for
// people (Short). What is safe is decided here and nowhere else.
package textfmt

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// unsafeRune says whether a rune must not reach an output raw: C0 controls (newline, carriage
// return and tab included: a value is one line), DEL, C1 controls, the bidirectional embedding,
// override and isolate characters (U+202A-U+202E, U+2066-U+2069) and marks (U+200E, U+200F,
// U+061C), and the Unicode line and paragraph separators (U+2028, U+2029).
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200e, r == 0x200f, r == 0x061c, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Terminal returns s with every control character, bidirectional control and line separator
// replaced by a visible escape: ESC is \x1b, a newline \x0a, U+202E \u202e; a byte that is not
// UTF-8 is \xHH too (a raw 0x9b is CSI on some terminals). Everything else is kept, backslashes
// included, so the escape is visible, not reversible. The result holds no byte a terminal
// interprets: it is one line and cannot move the cursor, change colours or reorder text.
func Terminal(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean says whether s is valid UTF-8 without an unsafe rune (the common case: no copy).
func clean(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		} else if c >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		return true
	}
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unsafeRune(r) {
			return false
		}
	}
	return true
}

// Markdown returns s as Markdown inline text that renders as s and nothing else, wherever inline
// text may stand: a paragraph, a heading, a list item, a table cell, a <summary>. What Terminal
// escapes is escaped first (so no line break survives, and a table row or list item cannot be
// ended early); then <, > and & become the entities &lt; &gt; &amp; (no HTML, no comment that
// hides what follows, no <autolink>), and every other ASCII punctuation character that could
// start or end a construct is backslash-escaped (no emphasis, code span, link, image, heading,
// list, quote, table cell boundary, math or bare-URL autolink can start: the : of a scheme,
// the . of www. and the @ of an address are escaped). The result holds no newline, no '<' and no backtick
// or pipe that is not escaped. It is not for the inside of a code span, where escapes do not
// work: use MarkdownCode.
func Markdown(s string) string {
	s = Terminal(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<':
			b.WriteString("&lt;")
		case c == '>':
			b.WriteString("&gt;")
		case c == '&':
			b.WriteString("&amp;")
		case asciiPunct(c) && !inert(c, i):
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// inert says whether the ASCII punctuation c, at byte i of the text, starts or ends nothing in
// CommonMark or GitHub-flavoured Markdown, so it needs no escape (which keeps ids and sentences
// readable in the raw text): , ; ' " / = % ? anywhere, and - except at the start, where it
// could begin a list or a thematic break.
func inert(c byte, i int) bool {
	switch c {
	case ',', ';', '\'', '"', '/', '=', '%', '?':
		return true
	case '-':
		return i > 0
	}
	return false
}

func asciiPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// MarkdownCode returns s as Markdown inline code: Markdown(s) inside <code> and </code> (which
// forges render as a code span; inside a backtick code span no escape works, so a backtick or a
// pipe in s could end it or the table cell). "" for "".
func MarkdownCode(s string) string {
	if s == "" {
		return ""
	}
	return "<code>" + Markdown(s) + "</code>"
}

// MarkdownFenced returns s as one line inside a fenced code block opened with backticks, where
// text is shown as it is: what Terminal escapes is escaped (no line break, so no line of s can
// close the fence) and backticks become apostrophes. The caller starts each line with its own
// text (a diff's + or -).
func MarkdownFenced(s string) string {
	return strings.ReplaceAll(Terminal(s), "`", "'")
}
