package source_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/permsets/permsets/source"
)

// keep drops the bytes of cut from s.
func keep(s, cut string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(cut, r) {
			return -1
		}
		return r
	}, s)
}

// FuzzRedact builds URLs around a secret made from the fuzz input (at least 4 bytes, found
// nowhere else in the URL): as the password of user:password@ (written raw, as git reads it, and
// percent-encoded, as net/url writes it) and as a token in place of the user of an http(s) URL.
// Redact never shows the secret, is idempotent, and leaves a URL without user information as it
// is.
func FuzzRedact(f *testing.F) {
	f.Add(uint8(0), "user", "secret", "host", "/repo")
	f.Add(uint8(1), "x-access-token", "ghp_abc123", "github.com", "/org/repo.git")
	f.Add(uint8(2), "git", "pw:with:colons", "host:2222", "/a/b.git")
	f.Add(uint8(3), "bot", "p@ss@word", "example.com:8443", "/path/with@sign")
	f.Add(uint8(0), "", "only-password", "host", "?x=a:b@c")
	f.Add(uint8(1), "u", "%2Fenc%40oded", "h", "")
	f.Add(uint8(0), "user", "sp ace\ttab", "host", "/r#frag@x")
	f.Fuzz(func(t *testing.T, which uint8, user, secret, host, path string) {
		scheme := []string{"https", "http", "ssh", "HTTPS", "git+ssh"}[int(which)%5]
		user = keep(user, ":/?#@")
		host = keep(host, "/?#@")
		if host == "" {
			host = "h"
		}
		if path != "" && path[0] != '/' && path[0] != '?' && path[0] != '#' {
			path = "/" + path
		}
		check := func(raw, redactedForm string, secrets ...string) {
			t.Helper()
			for _, s := range secrets {
				if len(s) < 4 || strings.Contains(redactedForm, s) {
					return // too short, or shown by the parts that are not secret
				}
			}
			got := source.Redact(raw)
			for _, s := range secrets {
				if strings.Contains(got, s) {
					t.Fatalf("Redact(%q) = %q: shows %q", raw, got, s)
				}
			}
			if again := source.Redact(got); again != got {
				t.Fatalf("Redact(%q) = %q, Redact of that %q", raw, got, again)
			}
		}

		// user:password@, raw: git ends the authority at the first / ? or #.
		pw := keep(secret, "/?#")
		check(scheme+"://"+user+":"+pw+"@"+host+path, scheme+"://"+user+":xxxxx@"+host+path, pw)

		// user:password@, percent-encoded by net/url.
		u := url.URL{Scheme: strings.ToLower(scheme), User: url.UserPassword(user, secret), Host: host, Path: strings.TrimPrefix(path, "?")}
		if enc := u.String(); strings.Contains(enc, "@") {
			masked := u
			masked.User = url.UserPassword(user, "xxxxx")
			check(enc, masked.String(), secret, url.QueryEscape(secret), strings.TrimPrefix(strings.TrimSuffix(url.UserPassword("", secret).String(), "@"), ":"))
		}

		// A token in place of the user of an http(s) URL.
		if strings.HasPrefix(strings.ToLower(scheme), "http") {
			tok := keep(secret, ":/?#@")
			check(scheme+"://"+tok+"@"+host+path, scheme+"://xxxxx@"+host+path, tok)
		}

		// No user information: nothing to redact.
		if plain := scheme + "://" + host + path; !strings.Contains(host, "@") && !strings.ContainsAny(path, "@") {
			if got := source.Redact(plain); got != plain {
				t.Fatalf("Redact(%q) = %q", plain, got)
			}
		}
	})
}
