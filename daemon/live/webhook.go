package live

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
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/server/types"

	"github.com/permsets/permsets/daemon/internal/respond"
)

// WebhookPath is where permsd takes forge webhooks.
const WebhookPath = "/v1/webhook"

// MaxWebhookBytes is the largest webhook body accepted (GitHub caps payloads at 25 MiB).
const MaxWebhookBytes = 25 << 20

// DefaultWebhookBufferBytes is how many bytes of push bodies may be held at once, while they are
// read and verified, when WebhookOptions.BufferBytes is 0: two of the largest.
const DefaultWebhookBufferBytes = 2 * MaxWebhookBytes

// webhookChunk is the room a body of unknown length starts with; it doubles as it fills.
const webhookChunk = 64 << 10

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
	// BufferBytes bounds the push bodies held at once, while they are read and verified (their
	// signatures cannot be checked before the last byte); 0 means DefaultWebhookBufferBytes. A
	// push that finds no room is answered 503 with Retry-After at once.
	BufferBytes int64
}

// NewWebhook returns the handler of POST /v1/webhook, GitHub-style: the body must carry a valid
// "X-Hub-Signature-256: sha256=HEX" (HMAC-SHA256 of the body with the secret, compared in
// constant time), else 401; bodies over 25 MiB are 413. The body is hashed as it is read: only
// a push's body is kept (its ref is read after the signature is checked), within
// WebhookOptions.BufferBytes for every push in flight, else 503. A verified "push" event for the followed
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
	log := orDiscard(o.Log)
	if o.BufferBytes < 0 {
		return nil, fmt.Errorf("webhook: BufferBytes %d is negative", o.BufferBytes)
	}
	if o.BufferBytes == 0 {
		o.BufferBytes = DefaultWebhookBufferBytes
	}
	return &webhook{secret: append([]byte(nil), o.Secret...), ref: "refs/heads/" + o.Branch, fetch: o.Fetch, log: log,
		room: budget{max: o.BufferBytes}}, nil
}

type webhook struct {
	secret []byte
	ref    string
	fetch  func()
	log    *slog.Logger
	room   budget // bytes of push bodies held

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
			respond.Error(w, http.StatusInternalServerError, types.CodeInternal, "internal error", false)
		}
	}()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		respond.Error(w, http.StatusMethodNotAllowed, types.CodeInvalidOperation,
			fmt.Sprintf("method %s is not allowed on %s", r.Method, WebhookPath), false)
		return
	}
	// A request without a well-formed signature header is refused before its body is read.
	if sig, ok := strings.CutPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256="); !ok || len(sig) != 2*sha256.Size {
		h.warn("webhook refused: missing or invalid signature", "remote", r.RemoteAddr)
		respond.Error(w, http.StatusUnauthorized, types.CodeUnauthorized, "missing or invalid X-Hub-Signature-256", false)
		return
	}
	// Only a push's body is needed after the signature is checked (for its ref); any other
	// event's is hashed as it is read and not kept.
	event := r.Header.Get("X-GitHub-Event")
	body, sum, held, failure := h.read(w, r, event == "push")
	defer h.room.release(held)
	if failure != nil {
		failure(w)
		return
	}
	if !h.verify(r.Header.Get("X-Hub-Signature-256"), sum) {
		h.warn("webhook refused: missing or invalid signature", "remote", r.RemoteAddr)
		respond.Error(w, http.StatusUnauthorized, types.CodeUnauthorized, "missing or invalid X-Hub-Signature-256", false)
		return
	}
	delivery := r.Header.Get("X-GitHub-Delivery")
	switch event {
	case "ping":
		h.log.Info("webhook ping", "delivery", delivery)
		respond.JSON(w, http.StatusOK, &WebhookResponse{Result: "pong"}, false)
		return
	case "push":
	default:
		respond.JSON(w, http.StatusOK, &WebhookResponse{Result: "ignored", Reason: "not a push event"}, false)
		return
	}
	payload, err := pushPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		respond.Error(w, http.StatusBadRequest, types.CodeInvalidParameter, "push payload: "+err.Error(), false)
		return
	}
	var push struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(payload, &push); err != nil {
		respond.Error(w, http.StatusBadRequest, types.CodeInvalidParameter, "push payload: not a JSON object with a ref", false)
		return
	}
	if push.Ref != h.ref {
		respond.JSON(w, http.StatusOK, &WebhookResponse{Result: "ignored", Reason: "not the followed branch"}, false)
		return
	}
	h.log.Info("webhook push: fetching", "ref", push.Ref, "delivery", delivery)
	h.fetch()
	respond.JSON(w, http.StatusAccepted, &WebhookResponse{Result: "fetching"}, false)
}

// read reads the body, at most MaxWebhookBytes, into the HMAC-SHA256 with the secret (sum).
// With keep it also keeps the bytes, taking room for them from h.room as the buffer grows (all
// of it at once when the length is announced); held is the room taken, to release when the
// body is no longer needed, also on failure. failure, when not nil, writes the answer: 413, 400,
// or 503 when there is no room.
func (h *webhook) read(w http.ResponseWriter, r *http.Request, keep bool) (body, sum []byte, held int64, failure func(http.ResponseWriter)) {
	mac := hmac.New(sha256.New, h.secret)
	if r.ContentLength > MaxWebhookBytes {
		return nil, nil, 0, tooLargeWebhook
	}
	rd := http.MaxBytesReader(w, r.Body, MaxWebhookBytes)
	readFailed := func(err error) func(http.ResponseWriter) {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return tooLargeWebhook
		}
		return func(w http.ResponseWriter) {
			respond.Error(w, http.StatusBadRequest, types.CodeInvalidParameter, "reading the request body failed", false)
		}
	}
	if !keep {
		if _, err := io.Copy(mac, rd); err != nil {
			return nil, nil, 0, readFailed(err)
		}
		return nil, mac.Sum(nil), 0, nil
	}
	grow := func(size int) bool {
		if !h.room.take(int64(size)) {
			return false
		}
		next := make([]byte, len(body), size)
		copy(next, body)
		h.room.release(held)
		body, held = next, int64(size)
		return true
	}
	first := webhookChunk
	if r.ContentLength >= 0 {
		first = int(r.ContentLength)
	}
	busy := func(w http.ResponseWriter) { h.busy(w, r) }
	if !grow(first) {
		return nil, nil, held, busy
	}
	for {
		if len(body) == cap(body) {
			// Full: one more byte says whether the body ends here or needs more room.
			var probe [1]byte
			n, err := io.ReadFull(rd, probe[:])
			if n == 0 && (err == io.EOF || err == io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				return nil, nil, held, readFailed(err)
			}
			if !grow(min(max(2*cap(body), webhookChunk), MaxWebhookBytes)) {
				return nil, nil, held, busy
			}
			mac.Write(probe[:])
			body = append(body, probe[0])
		}
		n, err := rd.Read(body[len(body):cap(body)])
		mac.Write(body[len(body) : len(body)+n])
		body = body[:len(body)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, held, readFailed(err)
		}
	}
	return body, mac.Sum(nil), held, nil
}

func tooLargeWebhook(w http.ResponseWriter) {
	respond.Error(w, http.StatusRequestEntityTooLarge, respond.CodeRequestTooLarge,
		fmt.Sprintf("request body too large (limit %d bytes)", MaxWebhookBytes), false)
}

// busy answers a push that found no room: 503, to be sent again in a few seconds.
func (h *webhook) busy(w http.ResponseWriter, r *http.Request) {
	h.warn("webhook refused: too many pushes in flight", "remote", r.RemoteAddr)
	w.Header().Set("Retry-After", "5")
	respond.Error(w, http.StatusServiceUnavailable, CodeWebhookBusy,
		"too many webhook deliveries are being read: retry later", false)
}

// CodeWebhookBusy is the error code of a webhook's 503.
const CodeWebhookBusy = "unavailable"

// verify checks "sha256=HEX" against the HMAC-SHA256 of the body, sum, in constant time.
func (h *webhook) verify(header string, sum []byte) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, sum)
}

// budget is a number of bytes that requests take and give back, never more than max at once.
type budget struct {
	max  int64
	used atomic.Int64
	peak atomic.Int64 // the most ever taken at once, for tests
}

// take takes n bytes if they are free.
func (b *budget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			for p := b.peak.Load(); used+n > p && !b.peak.CompareAndSwap(p, used+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

func (b *budget) release(n int64) {
	if n != 0 {
		b.used.Add(-n)
	}
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
