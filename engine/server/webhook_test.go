package server

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
	"sync/atomic"
	"testing"
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
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), CodeRequestTooLarge) || fetches.Load() != 0 {
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
