package textfmt

import "testing"

func TestPainter(t *testing.T) {
	for _, tc := range []struct {
		note string
		got  string
		want string
	}{
		{"off paints nothing", Painter{}.Red("x"), "x"},
		{"red", Painter{On: true}.Red("x"), "\x1b[31mx\x1b[0m"},
		{"bold", Painter{On: true}.Bold("x"), "\x1b[1mx\x1b[0m"},
		{"green", Painter{On: true}.Green("x"), "\x1b[32mx\x1b[0m"},
		{"yellow", Painter{On: true}.Yellow("x"), "\x1b[33mx\x1b[0m"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.note, tc.got, tc.want)
		}
	}
}

func TestShort(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"0123456789ab", "0123456789ab"},
		{"0123456789abcdef", "0123456789ab"},
	} {
		if got := Short(tc.in); got != tc.want {
			t.Errorf("Short(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
