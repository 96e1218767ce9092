// Package credentials holds what permsets knows about Git credentials: where they come from
// (PERMSETS_GIT_TOKEN, PERMSETS_GIT_USERNAME, the SSH agent and known_hosts: AuthFromEnv, as
// the go-git auth method of a remote URL) and how a remote URL, and any message that embeds it,
// is shown without them. Both apply's publishing and permsd's Git source use it.
//
// The rule: no password, token or query value of a remote URL is ever shown. Redact masks them
// in a URL; a Scrubber masks them, and the environment's token, in messages (go-git's errors
// embed the URL, sometimes re-encoded by net/url, sometimes with the password decoded).
package credentials

import (
	"cmp"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
)

// The environment variables of HTTP(S) credentials: the token is the password of HTTP basic
// auth, the user name defaults to DefaultUsername (what GitHub wants).
const (
	TokenEnv        = "PERMSETS_GIT_TOKEN"
	UsernameEnv     = "PERMSETS_GIT_USERNAME"
	DefaultUsername = "x-access-token"
)

// Mask replaces every secret shown.
const Mask = "xxxxx"

// FromEnv returns the user name and token for HTTP basic auth from the environment; token is ""
// when PERMSETS_GIT_TOKEN is unset or empty.
func FromEnv() (username, token string) {
	token = os.Getenv(TokenEnv)
	username = os.Getenv(UsernameEnv)
	if username == "" {
		username = DefaultUsername
	}
	return username, token
}

// Redact returns a remote URL fit to show:
//
//   - the password of its user information becomes xxxxx (https://user:xxxxx@host/repo); in
//     an http(s) URL a user without a password is a token (https://TOKEN@host/repo, sent as
//     HTTP basic auth) and becomes xxxxx; the user of other schemes stays (ssh://git@host/repo);
//   - every query value becomes xxxxx, keys stay (?private_token=xxxxx); an item without "="
//     becomes xxxxx; a fragment becomes #xxxxx;
//   - the authority ends at the first "/", "?" or "#" (RFC 3986, as net/url and git read it).
//     When an "@" comes after that point the URL is ambiguous (https://user:pa/ss@host/repo,
//     https://tok?en@host/x: secrets written unescaped): everything between "://" and the last
//     "@" is then the user information and is masked whole (https://xxxxx@host/repo); when a
//     "?" or "#" comes before that "@", it may be inside a query value and all that follows
//     "://" is masked (https://xxxxx). A path or query holding "@" is masked the same way:
//     more is hidden, never less.
//
// Strings without "://" (scp-like user@host:path, local paths) carry no password and are
// returned as they are. Redact is idempotent.
func Redact(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	scheme, rest := raw[:i], raw[i+3:]
	var userinfo, tail string
	hasUser, ambiguous := false, false
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if last := strings.LastIndex(rest, "@"); last >= end {
		if strings.ContainsAny(rest[:last], "?#") {
			// The "@" may be inside a query value or a fragment: what follows it may be
			// secret too.
			return scheme + "://" + Mask
		}
		ambiguous, hasUser = true, true
		userinfo, tail = rest[:last], rest[last+1:]
	} else if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		hasUser = true
		userinfo, tail = rest[:at], rest[at+1:]
	} else {
		tail = rest
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if hasUser {
		b.WriteString(redactUserinfo(scheme, userinfo, ambiguous))
		b.WriteByte('@')
	}
	b.WriteString(redactQuery(tail))
	return b.String()
}

// redactUserinfo masks the secret part of user information (without its "@").
func redactUserinfo(scheme, userinfo string, ambiguous bool) string {
	if userinfo == "" || userinfo == Mask {
		return userinfo
	}
	if ambiguous {
		return Mask
	}
	user, _, hasPassword := strings.Cut(userinfo, ":")
	if hasPassword {
		return user + ":" + Mask
	}
	if s := strings.ToLower(scheme); s == "http" || s == "https" {
		return Mask
	}
	return userinfo
}

// redactQuery masks the query values and the fragment of host[:port][/path][?query][#fragment].
func redactQuery(s string) string {
	s, fragment, hasFragment := strings.Cut(s, "#")
	s, query, hasQuery := strings.Cut(s, "?")
	if hasQuery {
		items := strings.Split(query, "&")
		for i, item := range items {
			if item == "" {
				continue
			}
			if k, _, ok := strings.Cut(item, "="); ok {
				items[i] = k + "=" + Mask
			} else {
				items[i] = Mask
			}
		}
		s += "?" + strings.Join(items, "&")
	}
	if hasFragment {
		if fragment != "" {
			fragment = Mask
		}
		s += "#" + fragment
	}
	return s
}

// A Scrubber removes the credentials of one remote URL, and any extra secrets (the token of the
// environment, of an auth method), from messages. The zero value scrubs only URLs found in
// messages.
type Scrubber struct {
	forms   [][2]string // [as written, redacted] of the URL, longest first
	secrets []string    // longest first
}

// NewScrubber returns the scrubber of rawURL and extra: empty extras are ignored.
func NewScrubber(rawURL string, extra ...string) *Scrubber {
	s := &Scrubber{}
	forms := []string{rawURL}
	var secrets []string
	secrets = append(secrets, urlSecrets(rawURL)...)
	if u, err := url.Parse(rawURL); err == nil {
		// go-git and net/http show the URL as net/url writes it again, and sometimes decoded.
		forms = append(forms, u.String())
		if dec, err := url.PathUnescape(rawURL); err == nil {
			forms = append(forms, dec)
		}
		secrets = append(secrets, urlSecrets(u.String())...)
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				secrets = append(secrets, pw)
			} else if s := strings.ToLower(u.Scheme); s == "http" || s == "https" {
				secrets = append(secrets, u.User.Username())
			}
		}
		for _, vs := range u.Query() {
			secrets = append(secrets, vs...)
		}
		if u.Fragment != "" {
			secrets = append(secrets, u.Fragment)
		}
	}
	for _, f := range forms {
		if f != "" {
			s.forms = append(s.forms, [2]string{f, Redact(f)})
		}
	}
	secrets = append(secrets, extra...)
	seen := map[string]bool{Mask: true, "": true}
	for _, sec := range secrets {
		for _, v := range variants(sec) {
			if !seen[v] {
				seen[v] = true
				s.secrets = append(s.secrets, v)
			}
		}
	}
	byLength := func(a, b string) int { return cmp.Compare(len(b), len(a)) }
	slices.SortFunc(s.forms, func(a, b [2]string) int { return byLength(a[0], b[0]) })
	slices.SortStableFunc(s.secrets, byLength)
	return s
}

// urlSecrets are the secrets of a URL as Redact reads it: the user information's password (or,
// in an http(s) URL, the token in place of the user; all of it when the URL is ambiguous) and
// the query values and fragment, as written.
func urlSecrets(raw string) []string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return nil
	}
	scheme, rest := raw[:i], raw[i+3:]
	var out []string
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	tail := rest
	if last := strings.LastIndex(rest, "@"); last >= end {
		// Ambiguous: the user part too, and the pieces a reader splitting at "/?#" would see.
		userinfo := rest[:last]
		out = append(out, userinfo)
		out = append(out, strings.FieldsFunc(userinfo, func(r rune) bool { return strings.ContainsRune(":/?#", r) })...)
		tail = rest[last+1:]
	} else if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		userinfo := rest[:at]
		if _, pw, ok := strings.Cut(userinfo, ":"); ok {
			out = append(out, pw)
		} else if s := strings.ToLower(scheme); s == "http" || s == "https" {
			out = append(out, userinfo)
		}
		tail = rest[at+1:]
	}
	tail, fragment, _ := strings.Cut(tail, "#")
	out = append(out, fragment)
	if _, query, ok := strings.Cut(tail, "?"); ok {
		for _, item := range strings.Split(query, "&") {
			if _, v, ok := strings.Cut(item, "="); ok {
				out = append(out, v)
			} else {
				out = append(out, item)
			}
		}
	}
	return out
}

// variants are the forms a secret is shown in: as written, percent-decoded, and
// percent-encoded as a query and as a path would encode it.
func variants(sec string) []string {
	if sec == "" {
		return nil
	}
	out := []string{sec, url.QueryEscape(sec), url.PathEscape(sec)}
	if dec, err := url.PathUnescape(sec); err == nil {
		out = append(out, dec, url.QueryEscape(dec), url.PathEscape(dec))
	}
	if dec, err := url.QueryUnescape(sec); err == nil {
		out = append(out, dec)
	}
	return out
}

// urlInText matches what looks like a URL in a message: a scheme, "://", and everything up to
// white space or a quote.
var urlInText = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]*`)

// Scrub returns msg with the scrubber's URL shown redacted, every other URL in it redacted too,
// and then every form of its secrets masked wherever they remain.
func (s *Scrubber) Scrub(msg string) string {
	if s != nil {
		for _, f := range s.forms {
			msg = strings.ReplaceAll(msg, f[0], f[1])
		}
	}
	msg = urlInText.ReplaceAllStringFunc(msg, Redact)
	if s != nil {
		for _, sec := range s.secrets {
			msg = strings.ReplaceAll(msg, sec, Mask)
		}
	}
	return msg
}
