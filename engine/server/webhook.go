package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/server/types"
)

// WebhookPath is where permsd takes forge webhooks.
const WebhookPath = "/v1/webhook"

// MaxWebhookBytes is the largest webhook body accepted (GitHub caps payloads at 25 MiB).
const MaxWebhookBytes = 25 << 20

// WebhookOptions configure the webhook handler.
type WebhookOptions struct {
	// Secret is the shared secret of the HMAC-SHA256 signature; required.
	Secret []byte
	// Branch is the branch followed: a push to refs/heads/Branch triggers a fetch.
	Branch string
	// Fetch asks for a fetch now; it must not block (GitSource.Trigger).
	Fetch func()
	// Log receives one line per verified delivery (Info) and rejected ones (Warn, at most one
	// a minute); nil discards.
	Log *slog.Logger
}

// NewWebhook returns the handler of POST /v1/webhook, GitHub-style: the body must carry a valid
// "X-Hub-Signature-256: sha256=HEX" (HMAC-SHA256 of the body with the secret, compared in
// constant time), else 401; bodies over 25 MiB are 413. A verified "push" event for the followed
// branch triggers a fetch (202); a push to another ref and other events are 200 and ignored;
// "ping" is 200. The body may be JSON or GitHub's form encoding (payload=JSON). Errors use OPA's
// shape. The handler needs no bearer token: the signature is the authentication.
func NewWebhook(o WebhookOptions) (http.Handler, error) {
	if len(o.Secret) == 0 {
		return nil, errors.New("webhook: a secret is required")
	}
	if o.Branch == "" || o.Fetch == nil {
		return nil, errors.New("webhook: Branch and Fetch are required")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &webhook{secret: append([]byte(nil), o.Secret...), ref: "refs/heads/" + o.Branch, fetch: o.Fetch, log: log}, nil
}

type webhook struct {
	secret []byte
	ref    string
	fetch  func()
	log    *slog.Logger

	mu         sync.Mutex
	lastWarn   time.Time
	suppressed int
}

// WebhookResponse is the body of a webhook's 200 and 202 answers.
type WebhookResponse struct {
	Result string `json:"result"` // "fetching", "ignored" or "pong"
	Reason string `json:"reason,omitempty"`
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.Error("panic serving the webhook", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			writeError(w, http.StatusInternalServerError, types.CodeInternal, "internal error", false)
		}
	}()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, types.CodeInvalidOperation,
			fmt.Sprintf("method %s is not allowed on %s", r.Method, WebhookPath), false)
		return
	}
	// A request without a well-formed signature header is refused before its body is read.
	if sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256="); !ok || len(sig) != 2*sha256.Size {
		h.warn("webhook refused: missing or invalid signature", "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, types.CodeUnauthorized, "missing or invalid X-Hub-Signature-256", false)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, CodeRequestTooLarge,
				fmt.Sprintf("request body too large (limit %d bytes)", MaxWebhookBytes), false)
			return
		}
		writeError(w, http.StatusBadRequest, types.CodeInvalidParameter, "reading the request body failed", false)
		return
	}
	if !h.verify(r.Header.Get("X-Hub-Signature-256"), body) {
		h.warn("webhook refused: missing or invalid signature", "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, types.CodeUnauthorized, "missing or invalid X-Hub-Signature-256", false)
		return
	}
	event := r.Header.Get("X-GitHub-Event")
	delivery := r.Header.Get("X-GitHub-Delivery")
	switch event {
	case "ping":
		h.log.Info("webhook ping", "delivery", delivery)
		writeJSON(w, http.StatusOK, &WebhookResponse{Result: "pong"}, false)
		return
	case "push":
	default:
		writeJSON(w, http.StatusOK, &WebhookResponse{Result: "ignored", Reason: "not a push event"}, false)
		return
	}
	payload, err := pushPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		writeError(w, http.StatusBadRequest, types.CodeInvalidParameter, "push payload: "+err.Error(), false)
		return
	}
	var push struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(payload, &push); err != nil {
		writeError(w, http.StatusBadRequest, types.CodeInvalidParameter, "push payload: not a JSON object with a ref", false)
		return
	}
	if push.Ref != h.ref {
		writeJSON(w, http.StatusOK, &WebhookResponse{Result: "ignored", Reason: "not the followed branch"}, false)
		return
	}
	h.log.Info("webhook push: fetching", "ref", push.Ref, "delivery", delivery)
	h.fetch()
	writeJSON(w, http.StatusAccepted, &WebhookResponse{Result: "fetching"}, false)
}

// verify checks "sha256=HEX" against the body's HMAC-SHA256, in constant time.
func (h *webhook) verify(header string, body []byte) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, h.secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// pushPayload is the JSON of a push: the body, or its payload field when GitHub sends the form
// encoding.
func pushPayload(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("malformed form encoding")
	}
	p := form.Get("payload")
	if p == "" {
		return nil, errors.New("no payload field")
	}
	return []byte(p), nil
}

// warn logs a refused delivery, at most once a minute, counting the ones not logged: anyone can
// post to the endpoint, and must not be able to flood the log.
func (h *webhook) warn(msg string, args ...any) {
	h.mu.Lock()
	now := time.Now()
	if now.Sub(h.lastWarn) < time.Minute {
		h.suppressed++
		h.mu.Unlock()
		return
	}
	n := h.suppressed
	h.lastWarn, h.suppressed = now, 0
	h.mu.Unlock()
	h.log.Warn(msg, append(args, "not_logged_since_last", n)...)
}
