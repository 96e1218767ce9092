package credentials

import (
	"net/url"
	"strings"
	"testing"
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

// only keeps the ASCII letters and digits of s and the bytes of also.
func only(s, also string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && ('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(also, r)) {
			return r
		}
		return -1
	}, s)
}

// FuzzRedact builds remote URLs around a secret made from the fuzz input (at least 4 bytes, found
// nowhere else in the URL, any bytes: "/", "?", "#", "@" and ":" included): as the password of
// user:password@ (written raw, as a user types it, and percent-encoded, as net/url writes it),
// as a token in place of the user of an http(s) URL, as a query value (raw and encoded), and
// beside them an extra token (the environment's). Neither Redact of the URL nor Scrub of
// messages that embed the URL (as written, as net/url writes it again, decoded, inside go-git's
// "Get" and "parse" errors) ever shows the secret or the token; Redact is idempotent and leaves
// a URL without user information or query as it is.
func FuzzRedact(f *testing.F) {
	f.Add(uint8(0), "user", "secret", "host", "/repo", "env-token")
	f.Add(uint8(1), "x-access-token", "ghp_abc123", "github.com", "/org/repo.git", "")
	f.Add(uint8(2), "git", "pw:with:colons", "host:2222", "/a/b.git", "tok")
	f.Add(uint8(3), "bot", "p@ss@word", "example.com:8443", "/path/with@sign", "e n v/t=k")
	f.Add(uint8(0), "", "only-password", "host", "?x=a:b@c", "")
	f.Add(uint8(1), "u", "%2Fenc%40oded", "h", "", "")
	f.Add(uint8(0), "user", "sp ace\ttab", "host", "/r#frag@x", "")
	f.Add(uint8(0), "user", "pa/ss", "host", "/repo", "")
	f.Add(uint8(1), "", "tok?en", "host", "/x", "")
	f.Add(uint8(0), "", "glpat-abc", "gitlab.example.com", "/org/repo.git", "")
	f.Fuzz(func(t *testing.T, which uint8, user, secret, host, path, extra string) {
		scheme := []string{"https", "http", "ssh", "HTTPS", "git+ssh"}[int(which)%5]
		// The parts that are not secret, in characters no URL encoding changes.
		user = only(user, "-._~")
		host = only(host, "-.:")
		if host == "" {
			host = "h"
		}
		if path != "" && path[0] != '/' {
			path = "/" + path
		}
		path = keep(path, "?#%")
		http := strings.HasPrefix(strings.ToLower(scheme), "http")
		public := scheme + "://" + user + ":@" + host + path + " fetch Get parse xxxxx private_token=&service=git-upload-pack /info/refs"
		// The parts that are not secret as net/url writes them too: an encoded path can spell a
		// secret ("%20000" holds "0000") that no redaction may hide.
		public += " " + (&url.URL{Scheme: strings.ToLower(scheme), User: url.User(user), Host: host, Path: path}).String()

		check := func(raw string, secrets ...string) {
			t.Helper()
			for _, s := range secrets {
				if len(s) < 4 || strings.Contains(public, s) {
					return // too short, or shown by the parts that are not secret
				}
			}
			extra := extra
			if len(extra) < 4 || strings.Contains(public, extra) || strings.Contains(raw, extra) || strings.ContainsRune(extra, 0) {
				extra = ""
			}
			got := Redact(raw)
			for _, s := range secrets {
				if strings.Contains(got, s) {
					t.Fatalf("Redact(%q) = %q: shows %q", raw, got, s)
				}
			}
			if again := Redact(got); again != got {
				t.Fatalf("Redact(%q) = %q, Redact of that %q", raw, got, again)
			}
			msgs := []string{"fetch " + raw + ": denied", `parse "` + raw + `": invalid`}
			if u, err := url.Parse(raw); err == nil {
				msgs = append(msgs, `Get "`+u.String()+`/info/refs?service=git-upload-pack": eof`,
					`Get "`+u.Scheme+"://"+u.User.String()+u.Host+u.Path+`/info/refs": eof`)
			}
			if dec, err := url.PathUnescape(raw); err == nil {
				msgs = append(msgs, "fetch "+dec+": denied")
			}
			if extra != "" {
				msgs = append(msgs, "token "+extra+" refused; "+url.QueryEscape(extra)+" too")
			}
			s := NewScrubber(raw, extra)
			for _, msg := range msgs {
				got := s.Scrub(msg)
				for _, sec := range append(secrets, extra) {
					if sec != "" && strings.Contains(got, sec) {
						t.Fatalf("URL %q: Scrub(%q) = %q: shows %q", raw, msg, got, sec)
					}
				}
			}
		}

		// user:password@, written raw.
		check(scheme+"://"+user+":"+secret+"@"+host+path, secret)

		// user:password@, percent-encoded by net/url.
		u := url.URL{Scheme: strings.ToLower(scheme), User: url.UserPassword(user, secret), Host: host, Path: path}
		if enc := u.String(); strings.Contains(enc, "@") {
			check(enc, secret, url.PathEscape(secret), strings.TrimPrefix(strings.TrimSuffix(url.UserPassword("", secret).String(), "@"), ":"))
		}

		// A token in place of the user of an http(s) URL, raw and encoded (without ":", which
		// would make it user:password).
		if tok := keep(secret, ":"); http {
			check(scheme+"://"+tok+"@"+host+path, tok)
			tu := url.URL{Scheme: strings.ToLower(scheme), User: url.User(tok), Host: host, Path: path}
			check(tu.String(), tok, strings.TrimSuffix(url.User(tok).String(), "@"))
		}

		// A query value, raw (up to "&" and "#", which end it) and encoded.
		if v := keep(secret, "&#"); !strings.ContainsAny(v, " \t\n") {
			check(scheme+"://"+host+path+"?private_token="+v, v)
		}
		check(scheme+"://"+host+path+"?private_token="+url.QueryEscape(secret), secret, url.QueryEscape(secret))

		// No user information, no query: nothing to redact.
		if plain := scheme + "://" + host + path; !strings.Contains(path, "@") {
			if got := Redact(plain); got != plain {
				t.Fatalf("Redact(%q) = %q", plain, got)
			}
		}
	})
}
