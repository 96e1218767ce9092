package credentials

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		note, in, want string
		secrets        []string // none of them may be shown
	}{
		{note: "password", in: "https://user:secret@host/repo", want: "https://user:xxxxx@host/repo", secrets: []string{"secret"}},
		{note: "password and port", in: "https://user:secret@host:8443/a/b.git", want: "https://user:xxxxx@host:8443/a/b.git"},
		{note: "no path", in: "https://x-access-token:ghp_abc@host", want: "https://x-access-token:xxxxx@host", secrets: []string{"ghp_abc"}},
		{note: "@ in the password", in: "http://u:p@ss@host/repo", want: "http://u:xxxxx@host/repo", secrets: []string{"p@ss"}},
		{note: "token as the user of https", in: "https://secret@host/repo", want: "https://xxxxx@host/repo"},
		{note: "scheme in capitals", in: "HTTP://secret@host/repo", want: "HTTP://xxxxx@host/repo"},
		{note: "empty user information", in: "https://@host/repo", want: "https://@host/repo"},
		{note: "ssh user stays", in: "ssh://git@host/repo", want: "ssh://git@host/repo"},
		{note: "ssh password", in: "ssh://git:pw-secret@host/repo", want: "ssh://git:xxxxx@host/repo", secrets: []string{"pw-secret"}},
		{note: "scp-like", in: "git@github.com:org/repo.git", want: "git@github.com:org/repo.git"},
		{note: "local path", in: "/srv/git/config.git", want: "/srv/git/config.git"},
		{note: "file URL", in: "file:///srv/git/config.git", want: "file:///srv/git/config.git"},
		{note: "no credentials", in: "https://github.com/org/repo.git", want: "https://github.com/org/repo.git"},
		{note: "percent-encoded password", in: "https://bot:url%2Fsecret@example.com/org/repo.git", want: "https://bot:xxxxx@example.com/org/repo.git", secrets: []string{"secret"}},

		// Secrets written unescaped, with characters that end the authority.
		{note: "/ in the password", in: "https://user:pa/ss-secret@host/repo", want: "https://xxxxx@host/repo", secrets: []string{"pa/ss-secret", "ss-secret", "pa"}},
		{note: "? in a token", in: "https://tok?en-secret@host/x", want: "https://xxxxx", secrets: []string{"tok", "en-secret"}},
		{note: "# in a token", in: "https://tok#en-secret@host/x", want: "https://xxxxx", secrets: []string{"tok", "en-secret"}},
		{note: "/ and @ in the password", in: "https://u:pa@s/s-secret@host/repo", want: "https://xxxxx@host/repo", secrets: []string{"s-secret"}},
		{note: "@ in the path: hidden with the rest", in: "https://user:secret@host/path/with@sign", want: "https://xxxxx@sign", secrets: []string{"secret"}},

		// Query values.
		{note: "private_token", in: "https://gitlab.example.com/org/repo.git?private_token=glpat-secret", want: "https://gitlab.example.com/org/repo.git?private_token=xxxxx", secrets: []string{"glpat-secret"}},
		{note: "access_token and another value", in: "https://host/repo?access_token=abc-secret&ref=main", want: "https://host/repo?access_token=xxxxx&ref=xxxxx", secrets: []string{"abc-secret"}},
		{note: "an item without =", in: "https://host/repo?ghp_secret", want: "https://host/repo?xxxxx", secrets: []string{"ghp_secret"}},
		{note: "empty value and empty items", in: "https://host/repo?a=&&b", want: "https://host/repo?a=xxxxx&&xxxxx"},
		{note: "query and password", in: "https://u:pw-secret@host/r?token=t-secret", want: "https://u:xxxxx@host/r?token=xxxxx", secrets: []string{"pw-secret", "t-secret"}},
		{note: "@ in a query value", in: "https://host/repo?x=a:b@c-secret", want: "https://xxxxx", secrets: []string{"a:b", "c-secret"}},
		{note: "@ in a query value after a password", in: "https://u:pw@host/r?token=ab@cd-secret", want: "https://xxxxx", secrets: []string{"cd-secret"}},
		{note: "fragment", in: "https://host/repo#frag-secret", want: "https://host/repo#xxxxx", secrets: []string{"frag-secret"}},
		{note: "query without a path", in: "https://host?token=t-secret", want: "https://host?token=xxxxx", secrets: []string{"t-secret"}},
	} {
		got := Redact(tc.in)
		if got != tc.want {
			t.Errorf("%s: Redact(%q) = %q, want %q", tc.note, tc.in, got, tc.want)
		}
		for _, s := range tc.secrets {
			if strings.Contains(got, s) {
				t.Errorf("%s: Redact(%q) = %q shows %q", tc.note, tc.in, got, s)
			}
		}
		if again := Redact(got); again != got {
			t.Errorf("%s: Redact(%q) = %q, not idempotent", tc.note, got, again)
		}
	}
}

func TestScrub(t *testing.T) {
	for _, tc := range []struct {
		note, url string
		extra     []string
		msgs      []string
		secrets   []string
	}{
		{
			note:  "password percent-encoded, and shown decoded by go-git",
			url:   "https://bot:url%2Fsecret@example.com/org/repo.git",
			extra: []string{"env/tok=en"},
			msgs: []string{
				"fetch https://bot:url%2Fsecret@example.com/org/repo.git: denied",
				`Get "https://bot:url/secret@example.com/org/repo.git/info/refs": eof`,
				"token env/tok=en refused; env%2Ftok%3Den too",
				"redirected to https://other:hunter2@evil.example/",
			},
			secrets: []string{"url%2Fsecret", "url/secret", "env/tok=en", "env%2Ftok%3Den", "hunter2"},
		},
		{
			note:    "token as the user",
			url:     "https://ghp_token123@example.com/org/repo.git",
			msgs:    []string{"fetch https://ghp_token123@example.com/org/repo.git: denied", "user ghp_token123 refused"},
			secrets: []string{"ghp_token123"},
		},
		{
			note: "/ in the password",
			url:  "https://user:pa/ss-Zq9@host/repo.git",
			msgs: []string{
				"fetch https://user:pa/ss-Zq9@host/repo.git: invalid port",
				`parse "https://user:pa/ss-Zq9@host/repo.git": invalid port ":pa" after host`,
				"dial tcp: lookup user: no such host (ss-Zq9@host/repo.git)",
			},
			secrets: []string{"pa/ss-Zq9", "ss-Zq9"},
		},
		{
			note: "? in a token",
			url:  "https://tok?en-Xw7@host/x",
			msgs: []string{
				"fetch https://tok?en-Xw7@host/x: no such host",
				`Get "https://tok/info/refs?en-Xw7@host/x&service=git-upload-pack": dial tcp: lookup tok`,
				"query en-Xw7@host/x",
			},
			secrets: []string{"en-Xw7"},
		},
		{
			note: "query tokens",
			url:  "https://gitlab.example.com/org/repo.git?private_token=glpat-Qq1&access_token=at-Rr2",
			msgs: []string{
				"fetch https://gitlab.example.com/org/repo.git?private_token=glpat-Qq1&access_token=at-Rr2: denied",
				`Get "https://gitlab.example.com/org/repo.git/info/refs?private_token=glpat-Qq1&access_token=at-Rr2&service=git-upload-pack": 401`,
				"token glpat-Qq1 rejected",
			},
			secrets: []string{"glpat-Qq1", "at-Rr2"},
		},
		{
			note: "a URL the scrubber was not told of, in a message",
			url:  "https://host/repo.git",
			msgs: []string{
				"redirect to https://u:Pw-Ee3@other/x?access_token=Tk-Ff4 refused",
				"redirect to 'https://Tk-Gg5@other/x'",
			},
			secrets: []string{"Pw-Ee3", "Tk-Ff4", "Tk-Gg5"},
		},
	} {
		s := NewScrubber(tc.url, tc.extra...)
		for _, msg := range tc.msgs {
			got := s.Scrub(msg)
			for _, sec := range tc.secrets {
				if strings.Contains(got, sec) {
					t.Errorf("%s: Scrub(%q) = %q shows %q", tc.note, msg, got, sec)
				}
			}
		}
	}
	// The URL is shown redacted, not masked away.
	s := NewScrubber("https://user:pw-secret@host/org/repo.git")
	if got := s.Scrub("fetch https://user:pw-secret@host/org/repo.git: denied"); got != "fetch https://user:xxxxx@host/org/repo.git: denied" {
		t.Errorf("Scrub = %q", got)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(TokenEnv, "")
	t.Setenv(UsernameEnv, "")
	if u, tok := FromEnv(); u != DefaultUsername || tok != "" {
		t.Errorf("FromEnv = %q, %q", u, tok)
	}
	t.Setenv(TokenEnv, "tok")
	t.Setenv(UsernameEnv, "deploy-bot")
	if u, tok := FromEnv(); u != "deploy-bot" || tok != "tok" {
		t.Errorf("FromEnv = %q, %q", u, tok)
	}
}
