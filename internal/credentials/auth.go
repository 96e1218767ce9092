package credentials

import (
	"fmt"
	"net"
	nethttp "net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
)

// AuthFromEnv chooses the credentials for a remote URL from the environment:
//
//   - http and https: the token in PERMSETS_GIT_TOKEN as the password of HTTP basic auth, with
//     the user name PERMSETS_GIT_USERNAME (default "x-access-token", as GitHub wants); nil when
//     the token is unset (credentials in the URL, if any, are then used; FromEnv);
//   - ssh (ssh://… or user@host:path): the SSH agent at SSH_AUTH_SOCK, with the host key checked
//     against the files in SSH_KNOWN_HOSTS (a list, like PATH) or ~/.ssh/known_hosts; an error
//     when neither exists: host keys are never left unchecked;
//   - local paths and file:// (and git://): nil.
//
// The auth method prints redacted with any fmt verb, and no error names the token.
func AuthFromEnv(url string) (transport.AuthMethod, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return nil, fmt.Errorf("%s is not a URL git understands", Redact(url))
	}
	switch ep.Protocol {
	case "http", "https":
		user, token := FromEnv()
		if token == "" {
			return nil, nil
		}
		return &tokenAuth{basic: &githttp.BasicAuth{Username: user, Password: token}}, nil
	case "ssh":
		files, err := knownHosts()
		if err != nil {
			return nil, err
		}
		if os.Getenv("SSH_AUTH_SOCK") == "" {
			return nil, fmt.Errorf("%s needs an SSH agent: SSH_AUTH_SOCK is not set", Redact(url))
		}
		user := ep.User
		if user == "" {
			user = "git"
		}
		db, err := gitssh.NewKnownHostsDb(files...)
		if err != nil {
			return nil, fmt.Errorf("known hosts: %w", err)
		}
		auth, err := gitssh.NewSSHAgentAuth(user)
		if err != nil {
			return nil, fmt.Errorf("SSH agent: %w", err)
		}
		port := ep.Port
		if port == 0 {
			port = 22
		}
		auth.HostKeyCallback = db.HostKeyCallback()
		auth.HostKeyAlgorithms = db.HostKeyAlgorithms(net.JoinHostPort(ep.Host, strconv.Itoa(port)))
		return auth, nil
	default:
		return nil, nil
	}
}

// knownHosts returns the known_hosts files that exist: those SSH_KNOWN_HOSTS lists, else
// ~/.ssh/known_hosts.
func knownHosts() ([]string, error) {
	var files []string
	if env := os.Getenv("SSH_KNOWN_HOSTS"); env != "" {
		files = filepath.SplitList(env)
	} else if home, err := os.UserHomeDir(); err == nil {
		files = []string{filepath.Join(home, ".ssh", "known_hosts")}
	}
	var exist []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			exist = append(exist, f)
		}
	}
	if len(exist) == 0 {
		return nil, fmt.Errorf("no known_hosts file to check the SSH host key against (looked for %s); add the host's key (ssh-keyscan) or set SSH_KNOWN_HOSTS", strings.Join(files, ", "))
	}
	return exist, nil
}

// tokenAuth is HTTP basic auth that never shows its password: fmt prints String (go-git's
// BasicAuth masks the password there) for %v, %s, %q and %x, and GoString for %#v, which would
// otherwise print the fields.
type tokenAuth struct{ basic *githttp.BasicAuth }

func (a *tokenAuth) Name() string               { return a.basic.Name() }
func (a *tokenAuth) String() string             { return a.basic.String() }
func (a *tokenAuth) GoString() string           { return "&credentials.tokenAuth{" + a.basic.String() + "}" }
func (a *tokenAuth) SetAuth(r *nethttp.Request) { a.basic.SetAuth(r) }

// AuthSecrets returns the password or token an auth method carries (AuthFromEnv's, or go-git's
// HTTP ones), for a Scrubber; none for the others.
func AuthSecrets(auth transport.AuthMethod) []string {
	switch a := auth.(type) {
	case *tokenAuth:
		return []string{a.basic.Password}
	case *githttp.BasicAuth:
		return []string{a.Password}
	case *githttp.TokenAuth:
		return []string{a.Token}
	}
	return nil
}
