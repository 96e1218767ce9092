package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/permsets/permsets/config"
	"github.com/permsets/permsets/internal/textfmt"
	"github.com/permsets/permsets/plan"
)

// The CI formats every command that reports problems at places in files shares: GitHub
// workflow commands (--format github: annotations on the lines of a pull request) and JUnit
// XML (--format junit: CI test reports). Config text is untrusted: it goes through
// textfmt.Terminal (no control character survives) and then the escapes of the medium.

// maxAnnotation is the most characters of an annotation's message or a JUnit message.
const maxAnnotation = 4096

// bounded makes untrusted text safe for one line and at most maxAnnotation characters.
func bounded(s string) string {
	s = textfmt.Terminal(s)
	if r := []rune(s); len(r) > maxAnnotation {
		s = string(r[:maxAnnotation]) + "..."
	}
	return s
}

var (
	githubData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	githubProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// writeGitHub writes one workflow command: level is error, warning or notice; a line of 0
// annotates the file (an empty file: the run).
func writeGitHub(w io.Writer, level, file string, line, col int, title, msg string) error {
	var props []string
	if file != "" && file != "." {
		props = append(props, "file="+githubProperty.Replace(bounded(file)))
		if line > 0 {
			props = append(props, fmt.Sprintf("line=%d", line))
			if col > 0 {
				props = append(props, fmt.Sprintf("col=%d", col))
			}
		}
	}
	if title != "" {
		props = append(props, "title="+githubProperty.Replace(bounded(title)))
	}
	sep := ""
	if len(props) > 0 {
		sep = " "
	}
	// A message may have lines; each is made safe, then the line breaks are encoded (%0A).
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = bounded(l)
	}
	_, err := fmt.Fprintf(w, "::%s%s%s::%s\n", level, sep, strings.Join(props, ","), githubData.Replace(strings.Join(lines, "\n")))
	return err
}

// githubFile is a file path as an annotation names it: relative to the repository's root,
// which is where CI runs; the config root may be below it.
func githubFile(dir, file string) string {
	if file == "" || file == "." {
		return file
	}
	if dir == "." || dir == "" {
		return file
	}
	return strings.TrimPrefix(dir, "./") + "/" + file
}

// JUnit XML, the shape CI test reports read (Jenkins, GitLab, GitHub actions that publish
// test results).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	File     string      `xml:"file,attr,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func junitSeconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// add appends a case to the suite, counting it.
func (s *junitSuite) add(c junitCase) {
	s.Tests++
	if c.Failure != nil {
		s.Failures++
	}
	if c.Skipped != nil {
		s.Skipped++
	}
	s.Cases = append(s.Cases, c)
}

// writeJUnit writes the suites, counting them into the root element. encoding/xml escapes
// markup and replaces characters XML cannot hold; every string is bounded() first.
func writeJUnit(w io.Writer, name string, total time.Duration, suites []junitSuite) error {
	root := junitSuites{Name: name, Time: junitSeconds(total), Suites: suites}
	for _, s := range suites {
		root.Tests += s.Tests
		root.Failures += s.Failures
		root.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// writeProblemsGitHub writes each config problem as an error annotation on its line.
func writeProblemsGitHub(w io.Writer, dir string, ps []config.Problem) error {
	for _, p := range ps {
		if err := writeGitHub(w, "error", githubFile(dir, p.File), p.Line, p.Col, "permsets "+p.Code, p.Message); err != nil {
			return err
		}
	}
	return nil
}

// problemsSuite is a JUnit suite of the config's problems: one failing case per problem, or
// one passing case "valid" when there is none.
func problemsSuite(ps []config.Problem) junitSuite {
	s := junitSuite{Name: "validate", Time: junitSeconds(0)}
	if len(ps) == 0 {
		s.add(junitCase{Name: "valid", Classname: "validate", Time: junitSeconds(0)})
	}
	for _, p := range ps {
		s.add(junitCase{Name: bounded(fmt.Sprintf("%s:%d:%d %s", p.File, p.Line, p.Col, p.Code)), Classname: "validate",
			File: bounded(p.File), Line: p.Line, Time: junitSeconds(0),
			Failure: &junitFailure{Message: bounded(p.Message), Type: bounded(p.Code), Text: bounded(p.String())}})
	}
	return s
}

// writePlanGitHub writes a plan's denies as errors and its warnings as warnings, each on its
// file and line, then the plan's summary line.
func writePlanGitHub(w io.Writer, dir string, p *plan.Plan) error {
	for _, l := range []struct {
		level string
		fs    []plan.Finding
	}{{"error", p.Deny}, {"warning", p.Warn}} {
		for _, f := range l.fs {
			if err := writeGitHub(w, l.level, githubFile(dir, f.File), f.Line, 0, "permsets "+f.Code, f.Object+": "+f.Message); err != nil {
				return err
			}
		}
	}
	_, err := fmt.Fprintln(w, bounded(p.SummaryLine()))
	return err
}

// planSuite is a plan as JUnit: a failing case per deny, a passing one "plan" when there is none.
func planSuite(dir string, p *plan.Plan) junitSuite {
	s := junitSuite{Name: "plan", Time: junitSeconds(0)}
	if len(p.Deny) == 0 {
		s.add(junitCase{Name: "no deny", Classname: "plan", Time: junitSeconds(0)})
	}
	for _, f := range p.Deny {
		s.add(junitCase{Name: bounded(f.Code + " " + f.Object), Classname: "plan", File: bounded(githubFile(dir, f.File)), Line: f.Line,
			Time: junitSeconds(0), Failure: &junitFailure{Message: bounded(f.Message), Type: bounded(f.Code), Text: bounded(f.Object + ": " + f.Message)}})
	}
	return s
}
