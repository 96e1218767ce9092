package credentials_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/permsets/permsets/internal/credentials"
	"github.com/permsets/permsets/internal/testutil"
)

func TestAuthFromEnv(t *testing.T) {
	const token = "ghp_s3cr3tT0kenValue"
	verbs := []string{"%v", "%+v", "%s", "%#v", "%q", "%x", "%d"}
	noToken := func(t *testing.T, v any) {
		t.Helper()
		for _, verb := range verbs {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, token) || strings.Contains(s, fmt.Sprintf("%x", token)) {
				t.Errorf("%s shows the token: %s", verb, s)
			}
		}
	}

	t.Run("https without a token", func(t *testing.T) {
		t.Setenv("PERMSETS_GIT_TOKEN", "")
		auth, err := credentials.AuthFromEnv("https://github.com/org/config.git")
		if err != nil || auth != nil {
			t.Errorf("AuthFromEnv = %v, %v; want nil, nil", auth, err)
		}
	})

	t.Run("https with a token", func(t *testing.T) {
		t.Setenv("PERMSETS_GIT_TOKEN", token)
		t.Setenv("PERMSETS_GIT_USERNAME", "")
		auth, err := credentials.AuthFromEnv("https://github.com/org/config.git")
		if err != nil || auth == nil {
			t.Fatalf("AuthFromEnv = %v, %v", auth, err)
		}
		noToken(t, auth)
		if auth.Name() != "http-basic-auth" {
			t.Errorf("Name = %q", auth.Name())
		}
		ha, ok := auth.(githttp.AuthMethod)
		if !ok {
			t.Fatalf("%T is not an HTTP auth method go-git's http transport accepts", auth)
		}
		req, _ := http.NewRequest("GET", "https://github.com/org/config.git/info/refs", nil)
		ha.SetAuth(req)
		if u, p, ok := req.BasicAuth(); !ok || u != "x-access-token" || p != token {
			t.Errorf("basic auth sent = %q, %q, %v", u, p, ok)
		}

		t.Setenv("PERMSETS_GIT_USERNAME", "deploy-bot")
		auth, _ = credentials.AuthFromEnv("http://git.internal/config.git")
		req, _ = http.NewRequest("GET", "http://git.internal/config.git/info/refs", nil)
		auth.(githttp.AuthMethod).SetAuth(req)
		if u, _, _ := req.BasicAuth(); u != "deploy-bot" {
			t.Errorf("user = %q, want deploy-bot", u)
		}
	})

	t.Run("go-git BasicAuth", func(t *testing.T) {
		// go-git's BasicAuth.String masks the password, so %v and %s are safe; %#v prints the
		// fields, which is why AuthFromEnv wraps it.
		b := &githttp.BasicAuth{Username: "x-access-token", Password: token}
		if s := b.String(); strings.Contains(s, token) || !strings.Contains(s, "*******") {
			t.Errorf("BasicAuth.String() = %q", s)
		}
		if s := fmt.Sprintf("%v", b); strings.Contains(s, token) {
			t.Errorf("%%v = %q", s)
		}
		if s := fmt.Sprintf("%#v", b); !strings.Contains(s, token) {
			t.Logf("go-git's BasicAuth no longer shows its password with %%#v: %s", s)
		}
	})

	t.Run("ssh without known_hosts", func(t *testing.T) {
		testutil.Hermetic(t)
		t.Setenv("PERMSETS_GIT_TOKEN", token)
		t.Setenv("SSH_KNOWN_HOSTS", "")
		t.Setenv("SSH_AUTH_SOCK", "/nonexistent/agent.sock")
		for _, url := range []string{"ssh://git@github.com/org/config.git", "git@github.com:org/config.git"} {
			auth, err := credentials.AuthFromEnv(url)
			if err == nil || auth != nil {
				t.Errorf("AuthFromEnv(%s) = %v, %v; want an error", url, auth, err)
				continue
			}
			if !strings.Contains(err.Error(), "known_hosts") || strings.Contains(err.Error(), token) {
				t.Errorf("error %q", err)
			}
		}
		t.Setenv("SSH_KNOWN_HOSTS", filepath.Join(t.TempDir(), "missing"))
		if _, err := credentials.AuthFromEnv("ssh://git@github.com/org/config.git"); err == nil {
			t.Error("SSH_KNOWN_HOSTS naming a missing file: no error")
		}
	})

	t.Run("ssh with known_hosts and an agent", func(t *testing.T) {
		testutil.Hermetic(t)
		hostPub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		hostKey, err := ssh.NewPublicKey(hostPub)
		if err != nil {
			t.Fatal(err)
		}
		otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
		otherKey, _ := ssh.NewPublicKey(otherPub)
		dir := t.TempDir()
		kh := filepath.Join(dir, "known_hosts")
		if err := os.WriteFile(kh, []byte(knownhosts.Line([]string{"git.example.org"}, hostKey)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("SSH_KNOWN_HOSTS", kh)

		t.Setenv("SSH_AUTH_SOCK", "")
		if _, err := credentials.AuthFromEnv("git@git.example.org:org/config.git"); err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
			t.Errorf("no agent: %v", err)
		}

		sock := filepath.Join(dir, "agent.sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			t.Skipf("unix socket: %v", err)
		}
		defer l.Close()
		keyring := agent.NewKeyring()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() { _ = agent.ServeAgent(keyring, c) }()
			}
		}()
		t.Setenv("SSH_AUTH_SOCK", sock)
		auth, err := credentials.AuthFromEnv("git@git.example.org:org/config.git")
		if err != nil {
			t.Fatal(err)
		}
		pk, ok := auth.(*gitssh.PublicKeysCallback)
		if !ok {
			t.Fatalf("auth is %T", auth)
		}
		if pk.User != "git" {
			t.Errorf("user = %q", pk.User)
		}
		addr := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 22}
		if err := pk.HostKeyCallback("git.example.org:22", addr, hostKey); err != nil {
			t.Errorf("known host key refused: %v", err)
		}
		if err := pk.HostKeyCallback("git.example.org:22", addr, otherKey); err == nil {
			t.Error("a different host key accepted")
		}
		if err := pk.HostKeyCallback("unknown.example.org:22", addr, hostKey); err == nil {
			t.Error("an unknown host accepted")
		}
		if len(pk.HostKeyAlgorithms) == 0 || !strings.Contains(strings.Join(pk.HostKeyAlgorithms, ","), "ed25519") {
			t.Errorf("host key algorithms = %v, want those of the known key", pk.HostKeyAlgorithms)
		}
		if auth, err := credentials.AuthFromEnv("ssh://deploy@git.example.org:2222/org/config.git"); err != nil || auth.(*gitssh.PublicKeysCallback).User != "deploy" {
			t.Errorf("ssh:// with a user: %v, %v", auth, err)
		}
	})

	t.Run("local", func(t *testing.T) {
		t.Setenv("PERMSETS_GIT_TOKEN", token)
		for _, url := range []string{"/srv/git/config.git", "../config.git", "file:///srv/git/config.git"} {
			if auth, err := credentials.AuthFromEnv(url); err != nil || auth != nil {
				t.Errorf("AuthFromEnv(%s) = %v, %v; want nil, nil", url, auth, err)
			}
		}
	})
}
