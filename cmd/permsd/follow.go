package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/permsets/permsets/daemon/live"
	"github.com/permsets/permsets/internal/credentials"
)

// followOptions are the source part of options: --git and what goes with it, the cache
// directory and the webhook (docs/permsd.md).
type followOptions struct {
	git               string
	branch            string
	path              string
	poll              time.Duration
	gitTimeout        time.Duration
	cacheDir          string
	webhookSecretFile string
}

// followFlags binds the Git, cache and webhook flags; the returned function checks them after
// parsing.
func followFlags(fs *flag.FlagSet, o *options) func() error {
	fs.StringVar(&o.git, "git", "", "follow a branch of the Git repository at `URL` (https://, ssh://, user@host:path, file:// or a path), with --branch; token in PERMSETS_GIT_TOKEN, SSH through the agent")
	fs.StringVar(&o.branch, "branch", "", "with --git, the `BRANCH` to follow (e.g. live)")
	fs.StringVar(&o.path, "path", "", "with --git, the config root's `SUBDIR` in the repository (default: the top)")
	fs.DurationVar(&o.poll, "poll", live.DefaultPoll, "with --git, fetch this often")
	fs.DurationVar(&o.gitTimeout, "git-timeout", live.DefaultGitTimeout, "with --git, give up on a fetch after this long")
	fs.StringVar(&o.cacheDir, "cache-dir", "", "keep the clone and the last good revision in `DIR`, served at start if the source is unreachable or broken (default with --git: a directory under the user cache directory; without it --dir persists nothing)")
	fs.StringVar(&o.webhookSecretFile, "webhook-secret-file", "", "with --git, serve POST /v1/webhook: GitHub-style pushes signed (X-Hub-Signature-256) with the secret in `FILE` trigger a fetch")
	return func() error {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		switch {
		case o.git != "" && o.dir != "":
			return errors.New("--dir and --git are two sources: pass one")
		case o.git != "" && o.branch == "":
			return errors.New("--git needs --branch, the branch to follow (e.g. --branch live)")
		case o.webhookSecretFile != "" && o.git == "":
			return errors.New("--webhook-secret-file needs --git: a webhook triggers a fetch")
		case o.git == "":
			for _, name := range []string{"branch", "path", "poll", "git-timeout"} {
				if set[name] {
					return fmt.Errorf("--%s goes with --git", name)
				}
			}
		case o.poll <= 0:
			return errors.New("--poll must be positive")
		case o.gitTimeout <= 0:
			return errors.New("--git-timeout must be positive")
		}
		return nil
	}
}

// follower is what permsd follows, with the cache directory and the webhook that go with it.
type follower struct {
	src       live.Source
	git       *live.GitSource // nil for --dir
	persister *live.Persister // nil without a cache directory
	webhook   http.Handler    // nil without --webhook-secret-file
	closers   []io.Closer
}

// openFollow sets up the source, locks the cache directory, and reads the webhook secret.
func openFollow(o *options, log *slog.Logger) (_ *follower, err error) {
	f := &follower{}
	defer func() {
		if err != nil {
			f.Close() // what was opened before the failure
		}
	}()
	cacheDir := o.cacheDir
	if o.git != "" && cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no --cache-dir and no user cache directory: %w", err)
		}
		sum := sha256.Sum256([]byte(credentials.Redact(o.git) + "\n" + o.branch + "\n" + o.path))
		cacheDir = filepath.Join(base, "permsets", hex.EncodeToString(sum[:8]))
	}
	if cacheDir != "" {
		lock, err := live.LockDir(cacheDir)
		if err != nil {
			return nil, err
		}
		f.closers = append(f.closers, lock)
	}
	if o.git != "" {
		g, err := live.NewGitSource(live.GitOptions{URL: o.git, Branch: o.branch, Path: o.path, CacheDir: cacheDir,
			Poll: o.poll, Timeout: o.gitTimeout, Log: log})
		if err != nil {
			return nil, err
		}
		f.src, f.git = g, g
		f.closers = append(f.closers, g)
	} else {
		d, err := live.NewDirSource(o.dir, o.debounce, log)
		if err != nil {
			return nil, err
		}
		f.src = d
		f.closers = append(f.closers, d)
	}
	if cacheDir != "" {
		p, err := live.NewPersister(cacheDir, f.src.String(), log)
		if err != nil {
			return nil, err
		}
		f.persister = p
	}
	if o.webhookSecretFile != "" {
		data, err := os.ReadFile(o.webhookSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--webhook-secret-file: %w", err)
		}
		secret := strings.TrimSpace(string(data))
		if secret == "" {
			return nil, fmt.Errorf("--webhook-secret-file %s is empty", o.webhookSecretFile)
		}
		f.webhook, err = live.NewWebhook(live.WebhookOptions{Secret: []byte(secret), Branch: o.branch, Fetch: f.git.Trigger, Log: log.With("component", "webhook")})
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// cacheDir is the cache directory in use, "" for none.
func (f *follower) cacheDir() string {
	if f.persister == nil {
		return ""
	}
	return f.persister.Dir()
}

// handlers are the endpoints the server mounts beside its own: the webhook, when there is one.
func (f *follower) handlers() map[string]http.Handler {
	if f.webhook == nil {
		return nil
	}
	return map[string]http.Handler{live.WebhookPath: f.webhook}
}

// reload is SIGHUP: a Git source fetches first; then the reloader loads.
func (f *follower) reload(ctx context.Context, r *live.Reloader) {
	if f.git == nil {
		r.Trigger()
		return
	}
	go func() {
		_ = f.git.Fetch(ctx) // a failure is logged by the source and shown by the reload
		r.Trigger()
	}()
}

// Close releases the source and the cache directory's lock.
func (f *follower) Close() {
	for i := len(f.closers) - 1; i >= 0; i-- {
		_ = f.closers[i].Close()
	}
	f.closers = nil
}
