package config

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Wildcard is the feature or action that matches every feature or action.
const Wildcard = "*"

// SetFeature is the feature whose quoted arguments name permission sets.
const SetFeature = "permset"

// Limits of the permission grammar.
const (
	maxIdentifierLen = 63
	maxObjectLen     = 256
	maxPermissionLen = 1024
	maxArguments     = 64
)

// Permission is a parsed permission string: `feature=action` or `feature=action(arg, ...)`.
type Permission struct {
	Feature string
	Action  string
	Args    []Arg
}

// Arg is one argument of a permission: a quoted object id or a bare scope name.
type Arg struct {
	Value  string
	Quoted bool
}

// PermissionError tells why a permission string does not parse and where (a byte offset).
type PermissionError struct {
	Input  string
	Offset int
	Reason string
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%q: %s at character %d", e.Input, e.Reason, e.Offset+1)
}

// ParsePermission parses a permission string. The grammar is in docs/config.md.
func ParsePermission(s string) (Permission, error) {
	p := permParser{in: s}
	return p.parse()
}

// MustParsePermission parses s and panics on error; for tests and constants.
func MustParsePermission(s string) Permission {
	p, err := ParsePermission(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String renders the canonical form: no spaces, quoted arguments in single quotes.
func (p Permission) String() string {
	var b strings.Builder
	b.WriteString(p.Feature)
	b.WriteByte('=')
	b.WriteString(p.Action)
	if len(p.Args) > 0 {
		b.WriteByte('(')
		for i, a := range p.Args {
			if i > 0 {
				b.WriteByte(',')
			}
			if a.Quoted {
				b.WriteByte('\'')
				b.WriteString(a.Value)
				b.WriteByte('\'')
			} else {
				b.WriteString(a.Value)
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Key is `feature=action`, the permission without arguments.
func (p Permission) Key() string { return p.Feature + "=" + p.Action }

// Scopes returns the bare (scope) arguments.
func (p Permission) Scopes() []string { return p.args(false) }

// Objects returns the quoted (object id) arguments.
func (p Permission) Objects() []string { return p.args(true) }

func (p Permission) args(quoted bool) []string {
	var out []string
	for _, a := range p.Args {
		if a.Quoted == quoted {
			out = append(out, a.Value)
		}
	}
	return out
}

type permParser struct {
	in  string
	pos int
}

func (p *permParser) fail(reason string) (Permission, error) {
	return Permission{}, &PermissionError{Input: p.in, Offset: p.pos, Reason: reason}
}

func (p *permParser) parse() (Permission, error) {
	if p.in == "" {
		return p.fail("empty permission")
	}
	if len(p.in) > maxPermissionLen {
		return p.fail(fmt.Sprintf("longer than %d characters", maxPermissionLen))
	}
	var perm Permission
	var ok bool
	if perm.Feature, ok = p.name(); !ok {
		return p.fail("expected a feature (a lowercase identifier or *)")
	}
	if !p.eat('=') {
		return p.fail("expected '=' after the feature (permissions read feature=action)")
	}
	if perm.Action, ok = p.name(); !ok {
		return p.fail("expected an action (a lowercase identifier or *)")
	}
	if p.pos == len(p.in) {
		return perm, nil
	}
	if !p.eat('(') {
		return p.fail("expected '(' or the end after the action")
	}
	if perm.Feature == Wildcard {
		p.pos--
		return p.fail("a wildcard feature takes no arguments")
	}
	for {
		p.spaces()
		if len(perm.Args) == maxArguments {
			return p.fail(fmt.Sprintf("more than %d arguments", maxArguments))
		}
		arg, ok, err := p.arg()
		if err != nil {
			return Permission{}, err
		}
		if !ok {
			return p.fail("expected an argument: a quoted object id ('id') or a scope name")
		}
		perm.Args = append(perm.Args, arg)
		p.spaces()
		if p.eat(')') {
			break
		}
		if !p.eat(',') {
			return p.fail("expected ',' or ')' after an argument")
		}
	}
	if p.pos != len(p.in) {
		return p.fail("unexpected text after ')'")
	}
	return perm, nil
}

func (p *permParser) eat(c byte) bool {
	if p.pos < len(p.in) && p.in[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *permParser) spaces() {
	for p.pos < len(p.in) && p.in[p.pos] == ' ' {
		p.pos++
	}
}

// name reads an identifier or *.
func (p *permParser) name() (string, bool) {
	if p.eat('*') {
		return Wildcard, true
	}
	return p.identifier()
}

func (p *permParser) identifier() (string, bool) {
	start := p.pos
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c >= 'a' && c <= 'z' || p.pos > start && (c >= '0' && c <= '9' || c == '_' || c == '-') {
			p.pos++
			continue
		}
		break
	}
	if p.pos == start || p.pos-start > maxIdentifierLen {
		p.pos = start
		return "", false
	}
	return p.in[start:p.pos], true
}

func (p *permParser) arg() (Arg, bool, error) {
	if !p.eat('\'') {
		id, ok := p.identifier()
		return Arg{Value: id}, ok, nil
	}
	start := p.pos
	for p.pos < len(p.in) {
		r, size := utf8.DecodeRuneInString(p.in[p.pos:])
		switch {
		case r == '\'':
			val := p.in[start:p.pos]
			if val == "" {
				_, err := p.fail("empty quoted argument")
				return Arg{}, false, err
			}
			if utf8.RuneCountInString(val) > maxObjectLen {
				p.pos = start
				_, err := p.fail(fmt.Sprintf("quoted argument longer than %d characters", maxObjectLen))
				return Arg{}, false, err
			}
			p.pos++
			return Arg{Value: val, Quoted: true}, true, nil
		case r == '\\' || r < 0x20 || r == 0x7f || r == utf8.RuneError && size == 1:
			_, err := p.fail("quoted arguments cannot hold backslashes, control characters or invalid UTF-8")
			return Arg{}, false, err
		}
		p.pos += size
	}
	p.pos = start - 1
	_, err := p.fail("unterminated quoted argument")
	return Arg{}, false, err
}
