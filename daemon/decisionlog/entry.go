package decisionlog

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/open-policy-agent/opa/v1/server/types"
)

// Entry is one decision-log entry, in the shape of OPA's decision-log events, with permsd's
// commit and generation. Its values are shared with the request: a sink must not modify them.
//
// A batch with a common_input gives one entry with Common set before its items' entries: its
// Input is the common_input, its DecisionID the batch's id, and it has no result. Each item's
// entry carries the item's own input; the input it was decided on is the common one merged
// under it.
type Entry struct {
	DecisionID      string                `json:"decision_id"`
	BatchDecisionID string                `json:"batch_decision_id,omitempty"`
	Common          bool                  `json:"common,omitempty"` // a batch's common_input, not a decision
	Revision        string                `json:"revision"`
	Commit          string                `json:"commit,omitempty"`
	Generation      uint64                `json:"generation"`
	Bundles         map[string]BundleInfo `json:"bundles,omitempty"`
	Path            string                `json:"path"` // e.g. "permsets/allow"
	Input           *any                  `json:"input,omitempty"`
	Result          *any                  `json:"result,omitempty"` // nil when undefined
	Error           *types.ErrorV1        `json:"error,omitempty"`
	RequestedBy     string                `json:"requested_by,omitempty"`
	Timestamp       time.Time             `json:"timestamp"`
	Metrics         map[string]any        `json:"metrics,omitempty"` // timer_server_handler_ns
}

// BundleInfo is the revision of one bundle, as in OPA's decision logs.
type BundleInfo struct {
	Revision string `json:"revision"`
}

// Status is the decision log's part of /v1/status: entries written, dropped (the buffer was
// full) and lost to write errors, and the bytes its buffer holds and may hold.
type Status struct {
	Written       uint64 `json:"written"`
	Dropped       uint64 `json:"dropped"`
	Failed        uint64 `json:"failed"`
	BufferedBytes int64  `json:"buffered_bytes"`
	BufferBytes   int64  `json:"buffer_bytes"`
}

// NewID is a random UUID (version 4), the form of OPA's decision ids (and its instance ids).
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
