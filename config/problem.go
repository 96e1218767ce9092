package config

import (
	"cmp"
	"fmt"
	"slices"
)

// Pos is a position in a file: line and column, both from 1. The zero Pos means "the whole file".
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"column"`
}

// Problem codes: stable, kebab-case, documented in docs/config.md.
const (
	CodeReadError           = "read-error"
	CodeFileTooLarge        = "file-too-large"
	CodeRepositoryTooLarge  = "repository-too-large"
	CodeOutsideRoot         = "outside-root"
	CodeNotRegularFile      = "not-regular-file"
	CodeInvalidEncoding     = "invalid-encoding"
	CodeYAMLSyntax          = "yaml-syntax"
	CodeUnsupportedYAML     = "unsupported-yaml"
	CodeDuplicateKey        = "duplicate-key"
	CodeAliasBudget         = "alias-budget"
	CodeTooDeep             = "too-deep"
	CodeUnknownDocument     = "unknown-document"
	CodeSchema              = "schema"
	CodeDuplicateID         = "duplicate-id"
	CodeDuplicateName       = "duplicate-name"
	CodeDuplicateEntry      = "duplicate-entry"
	CodeDuplicateLogin      = "duplicate-login"
	CodeDuplicateEmail      = "duplicate-email"
	CodeDuplicateRepository = "duplicate-repository"
	CodeUnknownInstance     = "unknown-instance"
	CodeUnknownSet          = "unknown-set"
	CodeUnknownUser         = "unknown-user"
	CodeInvalidPermission   = "invalid-permission"
	CodeUnknownPermission   = "unknown-permission"
	CodeCatalogConflict     = "catalog-conflict"
	CodeCycle               = "cycle"
	CodeInvalidEndpoint     = "invalid-endpoint"
	CodeInvalidDate         = "invalid-date"
	CodeInvalidDuration     = "invalid-duration"
	CodeInvalidPattern      = "invalid-pattern"
)

// Problem is one thing wrong with the config, at a place in a file.
type Problem struct {
	File    string `json:"file"`
	Pos            // line and column
	Code    string `json:"code"`
	Message string `json:"message"`
	// Object is the object the problem names, as Kind/id ("PermissionSet/staffer"), when it
	// names one: for a reference that does not resolve (unknown-set, unknown-instance,
	// unknown-user), the object referred to. "" otherwise. String does not show it: the
	// message says it.
	Object string `json:"object,omitempty"`
}

// ObjectRef is the Kind/id form of Problem.Object.
func ObjectRef(kind, id string) string { return kind + "/" + id }

// String renders the problem as `file:LINE:COL: CODE: message`.
func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s: %s", p.File, p.Code, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", p.File, p.Line, p.Col, p.Code, p.Message)
}

// SortProblems orders problems by file, line, column, code and message, and drops exact repeats.
func SortProblems(ps []Problem) []Problem {
	slices.SortFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Code, b.Code),
			cmp.Compare(a.Message, b.Message),
		)
	})
	return slices.Compact(ps)
}

// problems collects problems of one file's content. They carry positions but no file name:
// parse results are cached by content, and the file is filled in when they are assembled.
type problems struct {
	list []Problem
}

func (ps *problems) add(pos Pos, code, format string, args ...any) {
	ps.list = append(ps.list, Problem{Pos: pos, Code: code, Message: fmt.Sprintf(format, args...)})
}
