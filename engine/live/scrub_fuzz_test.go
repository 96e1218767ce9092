package live

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzGitScrub: the messages a GitSource logs and shows in status never hold the password (or,
// in an http(s) URL, the token in place of the user) of its URL, nor the token of
// PERMSETS_GIT_TOKEN: not raw, not percent-encoded, not inside the URL as written or as net/url
// writes it again. The secret comes from the fuzz input: at least 4 bytes, found nowhere else.
func FuzzGitScrub(f *testing.F) {
	f.Add(true, "bot", "url%2Fsecret", "env-token-1234", "denied")
	f.Add(true, "x-access-token", "ghp_abc123", "tok", "authentication required")
	f.Add(false, "", "ghp_tokenasuser", "", "Get \"%s\": eof")
	f.Add(true, "u", "p@ss:w rd", "e n v/t=k", "redirected to %s")
	f.Fuzz(func(t *testing.T, withUser bool, user, secret, envToken, tail string) {
		user = strings.Map(func(r rune) rune {
			if strings.ContainsRune(":/?#@%", r) {
				return -1
			}
			return r
		}, user)
		if strings.ContainsRune(envToken, 0) {
			return // an environment variable cannot hold NUL
		}
		if withUser && user == "" {
			user = "u"
		}
		host := "example.com"
		var raw string
		var hidden string // the redacted URL: what may be shown
		if withUser {
			u := url.URL{Scheme: "https", User: url.UserPassword(user, secret), Host: host, Path: "/org/repo.git"}
			raw = u.String()
			u.User = url.UserPassword(user, "xxxxx")
			hidden = u.String()
		} else {
			u := url.URL{Scheme: "https", User: url.User(secret), Host: host, Path: "/org/repo.git"}
			raw = u.String()
			u.User = url.User("xxxxx")
			hidden = u.String()
		}
		forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			forms = append(forms, strings.TrimSuffix(u.User.String(), "@"))
			if pw, ok := u.User.Password(); ok {
				forms = append(forms, pw)
			} else {
				forms = append(forms, u.User.Username())
			}
		}
		if envToken != "" {
			forms = append(forms, envToken, url.QueryEscape(envToken), url.PathEscape(envToken))
		}
		// The parts that may be shown, and the words of the message around the secret.
		public := hidden + " " + tail + " fetch git source xxxxx"
		var secrets []string
		for _, s := range forms {
			if withUser && s == user+":"+url.PathEscape(secret) {
				continue // the user information as a whole: its password part is checked
			}
			if len(s) < 4 || strings.Contains(public, s) || strings.Contains(user, s) {
				return
			}
			secrets = append(secrets, s)
		}
		t.Setenv("PERMSETS_GIT_TOKEN", envToken)
		src, err := NewGitSource(GitOptions{URL: raw, Branch: "live", CacheDir: t.TempDir()})
		if err != nil {
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("NewGitSource(%q): %q shows %q", raw, err, s)
				}
			}
			return
		}
		reparsed := raw
		if u, err := url.Parse(raw); err == nil {
			reparsed = u.String()
		}
		for _, msg := range []string{
			src.String(),
			"fetch " + raw + ": " + tail,
			"Get \"" + reparsed + "/info/refs?service=git-upload-pack\": " + tail,
			strings.ReplaceAll(tail, "%s", raw),
			"token " + envToken + " refused; " + url.QueryEscape(envToken) + " too",
			"password " + secret + " refused",
		} {
			got := src.scrub(msg)
			for _, s := range secrets {
				if strings.Contains(got, s) {
					t.Fatalf("URL %q: scrub(%q) = %q: shows %q", raw, msg, got, s)
				}
			}
		}
	})
}
