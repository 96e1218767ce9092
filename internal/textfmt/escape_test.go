package textfmt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	for _, tc := range []struct {
		note, in, want string
	}{
		{"plain text is kept", "staffer (sets/hq/staffer.yaml:3)", "staffer (sets/hq/staffer.yaml:3)"},
		{"non-ASCII letters are kept", "Équipe finance 会計", "Équipe finance 会計"},
		{"a backslash is kept", `a\b`, `a\b`},
		{"ESC sequences", "\x1b[2J\x1b]0;title\x07", `\x1b[2J\x1b]0;title\x07`},
		{"carriage return, newline and tab", "a\rb\nc\td", `a\x0db\x0ac\x09d`},
		{"NUL and DEL", "a\x00b\x7f", `a\x00b\x7f`},
		{"C1 controls (CSI, NEL)", "a\u009bb\u0085c", `a\x9bb\x85c`},
		{"bidi overrides and isolates", "a\u202eb\u2066c\u2069d\u202a", `a\u202eb\u2066c\u2069d\u202a`},
		{"bidi marks and line separators", "\u200e\u200f\u061c\u2028\u2029", `\u200e\u200f\u061c\u2028\u2029`},
		{"bytes that are not UTF-8", "a\x9b[2Jb\xff", `a\x9b[2Jb\xff`},
		{"empty", "", ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if got := Terminal(tc.in); got != tc.want {
				t.Errorf("Terminal(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct {
		note, in, want string
	}{
		{"letters, digits and spaces are kept", "Field organizer 2", "Field organizer 2"},
		{"an HTML comment cannot open", "<!-- hide", `&lt;\!-- hide`},
		{"a dash at the start, and inert punctuation", "-x y-z, a;b 'c' \"d\" e/f=g%h?", `\-x y-z, a;b 'c' "d" e/f=g%h?`},
		{"math", "$x$", `\$x\$`},
		{"HTML and entities", "<script>&amp;</script>", `&lt;script&gt;&amp;amp;&lt;/script&gt;`},
		{"a newline cannot end the line", "x\n### ✅ no rule denies this change", `x\\x0a\#\#\# ✅ no rule denies this change`},
		{"a carriage return", "x\r\ny", `x\\x0d\\x0ay`},
		{"emphasis, code and links", "**b** _i_ `c` [l](http://x)", `\*\*b\*\* \_i\_ \` + "`" + `c\` + "`" + ` \[l\]\(http\://x\)`},
		{"table cells", "a|b", `a\|b`},
		{"a heading, a list, a quote at line start", "# h", `\# h`},
		{"a backslash", `a\`, `a\\`},
		{"bare URLs and emails do not autolink", "www.x.org a@b.org", `www\.x\.org a\@b\.org`},
		{"bidi override", "a\u202eb", `a\\u202eb`},
		{"empty", "", ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if got := Markdown(tc.in); got != tc.want {
				t.Errorf("Markdown(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMarkdownCode(t *testing.T) {
	for _, tc := range []struct {
		note, in, want string
	}{
		{"an id", "field-organizer", `<code>field-organizer</code>`},
		{"a backtick cannot end the span", "a`|b", "<code>a\\`\\|b</code>"},
		{"empty is empty", "", ""},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if got := MarkdownCode(tc.in); got != tc.want {
				t.Errorf("MarkdownCode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMarkdownFenced(t *testing.T) {
	for _, tc := range []struct {
		note, in, want string
	}{
		{"a diff line is kept", "+ alice@prod people=read via staffer (direct)", "+ alice@prod people=read via staffer (direct)"},
		{"no line can close the fence", "x\n```\n<!--", `x\x0a'''\x0a<!--`},
	} {
		t.Run(tc.note, func(t *testing.T) {
			if got := MarkdownFenced(tc.in); got != tc.want {
				t.Errorf("MarkdownFenced(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// unescapeMarkdown reads Markdown's output back, failing on anything Markdown never writes: a
// backslash before something other than ASCII punctuation, an entity other than &lt; &gt;
// &amp;, or a raw newline, <, >, &, backtick, pipe or other punctuation that is not inert.
func unescapeMarkdown(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) || !asciiPunct(s[i+1]) {
				t.Fatalf("a backslash escapes nothing at %d of %q", i, s)
			}
			i++
			b.WriteByte(s[i])
		case c == '&':
			ent := ""
			for _, e := range []string{"&lt;", "&gt;", "&amp;"} {
				if strings.HasPrefix(s[i:], e) {
					ent = e
				}
			}
			if ent == "" {
				t.Fatalf("a raw & at %d of %q", i, s)
			}
			b.WriteString(map[string]string{"&lt;": "<", "&gt;": ">", "&amp;": "&"}[ent])
			i += len(ent) - 1
		case c == '\n' || c == '\r' || c == '<' || c == '>' || c == '`' || c == '|' || asciiPunct(c) && !inert(c, i):
			t.Fatalf("an unescaped %q at %d of %q", c, i, s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FuzzMarkdown: whatever the input, Markdown's output has no newline, no '<', no unescaped
// backtick or pipe (nor any other unescaped ASCII punctuation), holds no raw control character,
// and reads back as Terminal's rendering of the input.
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"", "staffer", "x\n<!--", "**a** `b` | [c](d) # e", "\x1b[2J\r\u202e", "a\\`", "\xff\x9b", "&lt;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Markdown(s)
		if strings.ContainsAny(out, "\n\r<") {
			t.Fatalf("Markdown(%q) = %q holds a newline or <", s, out)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("Markdown(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if unsafeRune(r) {
				t.Fatalf("Markdown(%q) = %q holds %U", s, out, r)
			}
		}
		if back, want := unescapeMarkdown(t, out), Terminal(s); back != want {
			t.Fatalf("Markdown(%q) = %q reads back as %q, want %q", s, out, back, want)
		}
	})
}
