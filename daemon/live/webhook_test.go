package live

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/permsets/permsets/daemon/internal/respond"
)

const testSecret = "It's a Secret to Everybody"

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func newTestWebhook(t testing.TB) (http.Handler, *atomic.Int64) {
	t.Helper()
	var fetches atomic.Int64
	h, err := NewWebhook(WebhookOptions{Secret: []byte(testSecret), Branch: "live", Fetch: func() { fetches.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	return h, &fetches
}

func TestWebhook(t *testing.T) {
	push := []byte(`{"ref":"refs/heads/live","after":"abc"}`)
	other := []byte(`{"ref":"refs/heads/main"}`)
	form := []byte("payload=" + url.QueryEscape(string(push)))
	for _, tc := range []struct {
		note        string
		method      string
		event       string
		contentType string
		body        []byte
		signature   string // "" : none; "good": signed with the secret
		status      int
		code        string // error code, or result
		fetches     int64
	}{
		{note: "push to the followed branch", event: "push", body: push, signature: "good", status: 202, code: "fetching", fetches: 1},
		{note: "push as a form", event: "push", contentType: "application/x-www-form-urlencoded", body: form, signature: "good", status: 202, code: "fetching", fetches: 1},
		{note: "push to another branch", event: "push", body: other, signature: "good", status: 200, code: "ignored"},
		{note: "push to a tag of the branch's name", event: "push", body: []byte(`{"ref":"refs/tags/live"}`), signature: "good", status: 200, code: "ignored"},
		{note: "ping", event: "ping", body: []byte(`{"zen":"x"}`), signature: "good", status: 200, code: "pong"},
		{note: "another event", event: "issues", body: push, signature: "good", status: 200, code: "ignored"},
		{note: "no signature", event: "push", body: push, status: 401, code: "unauthorized"},
		{note: "signed with another secret", event: "push", body: push, signature: sign("guess", push), status: 401, code: "unauthorized"},
		{note: "signature of another body", event: "push", body: push, signature: sign(testSecret, other), status: 401, code: "unauthorized"},
		{note: "sha1 signature", event: "push", body: push, signature: "sha1=" + strings.Repeat("0", 40), status: 401, code: "unauthorized"},
		{note: "short signature", event: "push", body: push, signature: sign(testSecret, push)[:20], status: 401, code: "unauthorized"},
		{note: "not hex", event: "push", body: push, signature: "sha256=" + strings.Repeat("zz", 32), status: 401, code: "unauthorized"},
		{note: "signed garbage", event: "push", body: []byte("{"), signature: "good", status: 400, code: "invalid_parameter"},
		{note: "signed form without payload", event: "push", contentType: "application/x-www-form-urlencoded", body: []byte("x=1"), signature: "good", status: 400, code: "invalid_parameter"},
		{note: "GET", method: "GET", event: "push", status: 405, code: "invalid_operation"},
	} {
		t.Run(tc.note, func(t *testing.T) {
			h, fetches := newTestWebhook(t)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, WebhookPath, bytes.NewReader(tc.body))
			req.Header.Set("X-GitHub-Event", tc.event)
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			} else {
				req.Header.Set("Content-Type", "application/json")
			}
			switch tc.signature {
			case "":
			case "good":
				req.Header.Set("X-Hub-Signature-256", sign(testSecret, tc.body))
			default:
				req.Header.Set("X-Hub-Signature-256", tc.signature)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			var body struct{ Code, Message, Result string }
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("not JSON: %s", rec.Body)
			}
			if got := body.Code + body.Result; got != tc.code {
				t.Errorf("code/result %q, want %q: %s", got, tc.code, rec.Body)
			}
			if got := fetches.Load(); got != tc.fetches {
				t.Errorf("%d fetches, want %d", got, tc.fetches)
			}
		})
	}
}

func TestWebhookTooLarge(t *testing.T) {
	h, fetches := newTestWebhook(t)
	body := bytes.Repeat([]byte(" "), MaxWebhookBytes+1)
	req := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", sign(testSecret, body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), respond.CodeRequestTooLarge) || fetches.Load() != 0 {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	// Exactly the limit is fine.
	body = append(bytes.Repeat([]byte(" "), MaxWebhookBytes-len(`{"ref":"refs/heads/live"}`)), `{"ref":"refs/heads/live"}`...)
	req = httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", sign(testSecret, body))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || fetches.Load() != 1 {
		t.Errorf("a body of exactly the limit: status %d: %s", rec.Code, rec.Body)
	}
}

// TestWebhookUnsignedNotRead: without a well-formed signature header the body is not read at
// all, so an unsigned client cannot make permsd read 25 MiB.
func TestWebhookUnsignedNotRead(t *testing.T) {
	h, fetches := newTestWebhook(t)
	for _, sig := range []string{"", "sha256=abc", "sha1=" + strings.Repeat("0", 40)} {
		body := &countingReader{r: bytes.NewReader(bytes.Repeat([]byte(" "), MaxWebhookBytes+1))}
		req := httptest.NewRequest(http.MethodPost, WebhookPath, body)
		req.Header.Set("X-GitHub-Event", "push")
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || body.n != 0 || fetches.Load() != 0 {
			t.Errorf("signature %q: status %d after reading %d bytes", sig, rec.Code, body.n)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestNewWebhookNeedsASecret(t *testing.T) {
	if _, err := NewWebhook(WebhookOptions{Branch: "live", Fetch: func() {}}); err == nil {
		t.Error("no secret: no error")
	}
}

// FuzzWebhook posts arbitrary bodies and headers to the webhook (no network): nothing panics,
// every answer is JSON with 200, 202, 400, 401 or 413, and only a verified push of the followed
// branch fetches.
func FuzzWebhook(f *testing.F) {
	push := `{"ref":"refs/heads/live"}`
	f.Add([]byte(push), "push", "application/json", true, "")
	f.Add([]byte(push), "push", "application/json", false, "sha256=00")
	f.Add([]byte("payload="+url.QueryEscape(push)), "push", "application/x-www-form-urlencoded", true, "")
	f.Add([]byte(`{"zen":1}`), "ping", "", true, "")
	f.Add([]byte(`{"ref":1}`), "push", "application/json; charset=utf-8", true, "")
	f.Add([]byte("payload=%zz"), "push", "application/x-www-form-urlencoded", true, "")
	f.Add([]byte{0xff, 0x00}, "", "text/plain", false, "sha256="+strings.Repeat("a", 64))
	h, fetches := newTestWebhook(f)
	f.Fuzz(func(t *testing.T, body []byte, event, contentType string, signed bool, signature string) {
		req := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("Content-Type", contentType)
		if signed {
			signature = sign(testSecret, body)
		}
		req.Header.Set("X-Hub-Signature-256", signature)
		before := fetches.Load()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 202, 400, 401, 413:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("not JSON: %q", rec.Body)
		}
		fetched := fetches.Load() != before
		if fetched != (rec.Code == 202) {
			t.Fatalf("status %d, fetched %v", rec.Code, fetched)
		}
		if fetched && (event != "push" || sign(testSecret, body) != req.Header.Get("X-Hub-Signature-256")) {
			t.Fatalf("fetched on an unverified or non-push delivery")
		}
		if !signed && rec.Code != 401 && signature != sign(testSecret, body) {
			t.Fatalf("an unsigned delivery got %d", rec.Code)
		}
	})
}

// bodiesInFlight counts the bytes of request bodies read by handlers that have not answered
// yet: what the handlers may be holding. Readers that reach the end of their body wait there
// until every request has either reached its end or been answered (or a few seconds pass), so
// that all the bodies that will be read are counted at once.
type bodiesInFlight struct {
	mu              sync.Mutex
	n               int // requests
	atEnd, answered int
	bytes, peak     int64
	release         chan struct{}
	once            sync.Once
}

func (f *bodiesInFlight) check() {
	if f.atEnd+f.answered == f.n {
		f.once.Do(func() { close(f.release) })
	}
}

// bodyInFlight is a request body of size bytes of spaces, counted in f.
type bodyInFlight struct {
	f    *bodiesInFlight
	left int64
	read int64
}

func (b *bodyInFlight) Read(p []byte) (int, error) {
	if b.left == 0 {
		b.f.mu.Lock()
		b.f.atEnd++
		b.f.check()
		b.f.mu.Unlock()
		select {
		case <-b.f.release:
		case <-time.After(10 * time.Second):
		}
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, b.left)
	for i := range n {
		p[i] = ' '
	}
	b.left -= n
	b.read += n
	b.f.mu.Lock()
	b.f.bytes += n
	b.f.peak = max(b.f.peak, b.f.bytes)
	b.f.mu.Unlock()
	return int(n), nil
}

// TestWebhookUnverifiedBounded replays 20 concurrent 25 MiB pushes with a well-formed but wrong
// signature: the bodies held at once stay within two of the largest (each was read whole, 500
// MiB at once), the others are refused with 503 and Retry-After before they are read, and a
// signed push is served afterwards.
func TestWebhookUnverifiedBounded(t *testing.T) {
	h, fetches := newTestWebhook(t)
	const n, size = 20, MaxWebhookBytes
	f := &bodiesInFlight{n: n, release: make(chan struct{})}
	bad := "sha256=" + strings.Repeat("0", 64)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := &bodyInFlight{f: f, left: size}
			req := httptest.NewRequest(http.MethodPost, WebhookPath, body)
			req.ContentLength = size
			req.Header.Set("X-GitHub-Event", "push")
			req.Header.Set("X-Hub-Signature-256", bad)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			f.mu.Lock()
			f.answered++
			f.bytes -= body.read
			f.check()
			f.mu.Unlock()
			codes[i] = rec.Code
			if rec.Code == http.StatusServiceUnavailable && (rec.Header().Get("Retry-After") == "" || body.read != 0) {
				t.Errorf("503 without Retry-After, or after reading %d bytes", body.read)
			}
		})
	}
	wg.Wait()
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	t.Logf("answers %v; at most %d MiB of bodies read by handlers at once", count, f.peak>>20)
	if limit := int64(2 * MaxWebhookBytes); f.peak > limit {
		t.Errorf("%d MiB of unverified bodies held at once, more than %d MiB", f.peak>>20, limit>>20)
	}
	if count[http.StatusUnauthorized]+count[http.StatusServiceUnavailable] != n || count[http.StatusUnauthorized] == 0 || fetches.Load() != 0 {
		t.Errorf("answers %v, %d fetches", count, fetches.Load())
	}
	push := []byte(`{"ref":"refs/heads/live"}`)
	req := httptest.NewRequest(http.MethodPost, WebhookPath, bytes.NewReader(push))
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", sign(testSecret, push))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted || fetches.Load() != 1 {
		t.Errorf("a signed push afterwards: %d %s", rec.Code, rec.Body)
	}
}

// onlyReader hides a body's length, so that it is sent chunked.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestWebhookRoom: the room a push takes grows with a body of unknown length, is refused past
// the bound (503), is given back on every answer, and other events keep nothing.
func TestWebhookRoom(t *testing.T) {
	var fetches atomic.Int64
	hh, err := NewWebhook(WebhookOptions{Secret: []byte(testSecret), Branch: "live", Fetch: func() { fetches.Add(1) },
		BufferBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	h := hh.(*webhook)
	push := func(n int) []byte {
		return append(bytes.Repeat([]byte(" "), n-len(`{"ref":"refs/heads/live"}`)), `{"ref":"refs/heads/live"}`...)
	}
	for _, tc := range []struct {
		note    string
		body    []byte
		event   string
		chunked bool
		signed  bool
		status  int
	}{
		{note: "small, chunked", body: push(1000), event: "push", chunked: true, signed: true, status: 202},
		{note: "grows past the first chunk", body: push(400 << 10), event: "push", chunked: true, signed: true, status: 202},
		{note: "exactly the room", body: push(1 << 20), event: "push", signed: true, status: 202},
		{note: "longer than the room, announced", body: push(1<<20 + 1), event: "push", signed: true, status: 503},
		{note: "longer than the room, chunked", body: push(3 << 20), event: "push", chunked: true, signed: true, status: 503},
		// Growing from 512 KiB to 1 MiB needs both buffers while the first is copied.
		{note: "too long to grow", body: push(600 << 10), event: "push", chunked: true, signed: true, status: 503},
		{note: "wrong signature", body: push(300 << 10), event: "push", chunked: true, status: 401},
		{note: "empty", body: nil, event: "push", signed: true, status: 400},
		{note: "another event is not kept", body: push(3 << 20), event: "ping", chunked: true, signed: true, status: 200},
	} {
		t.Run(tc.note, func(t *testing.T) {
			var rd io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				rd = onlyReader{rd}
			}
			req := httptest.NewRequest(http.MethodPost, WebhookPath, rd)
			req.Header.Set("X-GitHub-Event", tc.event)
			sig := "sha256=" + strings.Repeat("0", 64)
			if tc.signed {
				sig = sign(testSecret, tc.body)
			}
			req.Header.Set("X-Hub-Signature-256", sig)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status == 503 && (rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), CodeWebhookBusy)) {
				t.Fatalf("503 %v %s", rec.Header(), rec.Body)
			}
			if used := h.room.used.Load(); used != 0 {
				t.Fatalf("%d bytes still taken", used)
			}
			if peak := h.room.peak.Load(); peak > 1<<20 {
				t.Fatalf("%d bytes taken at once", peak)
			}
		})
	}
	if fetches.Load() != 3 {
		t.Fatalf("%d fetches", fetches.Load())
	}
	if _, err := NewWebhook(WebhookOptions{Secret: []byte("s"), Branch: "live", Fetch: func() {}, BufferBytes: -1}); err == nil {
		t.Fatal("a negative BufferBytes is no error")
	}
}
