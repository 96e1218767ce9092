package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var readmeCheck = regexp.MustCompile(`^permsctl check (.*?)\s+#\s*(allowed|denied)\b`)

// TestExampleREADMEs runs every `permsctl check ... # allowed|denied` line of the examples'
// READMEs against its example, so what the docs promise stays true.
func TestExampleREADMEs(t *testing.T) {
	readmes, _ := filepath.Glob("../../examples/*/README.md")
	ran := 0
	for _, readme := range readmes {
		data, err := os.ReadFile(readme)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(readme)
		for i, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "permsctl check") && !readmeCheck.MatchString(line) {
				t.Errorf("%s:%d: a check line without an # allowed or # denied comment", readme, i+1)
				continue
			}
			m := readmeCheck.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			ran++
			args, err := shellWords(m[1])
			if err != nil {
				t.Fatalf("%s:%d: %v", readme, i+1, err)
			}
			want := exitOK
			if m[2] == "denied" {
				want = exitDenied
			}
			var out, errOut bytes.Buffer
			if code := runWith(append([]string{"-C", dir, "check"}, args...), &out, &errOut); code != want {
				t.Errorf("%s:%d: exit %d, the README says %s\n%s%s", readme, i+1, code, m[2], out.String(), errOut.String())
			}
		}
	}
	if ran < 20 {
		t.Errorf("ran %d README checks; expected the examples to show at least 20", ran)
	}
}

// shellWords splits a command line on spaces, keeping single-quoted words whole.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted = !quoted
			inWord = true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, os.ErrInvalid
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
