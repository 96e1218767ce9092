package authzen

import (
	"encoding/base64"
	"sort"
	"strings"
)

// Decision is the answer to one evaluation. Context is absent unless there is something to say
// (an error, a denial's reason when asked, provenance when asked), so that answers stay
// {"decision": bool} and clients comparing them exactly see that.
type Decision struct {
	Decision bool           `json:"decision"`
	Context  map[string]any `json:"context,omitempty"`
}

// ErrorContext is the context of an evaluation that could not be made: decision false with
// {"error": {"status": 400, "message": ...}} (the spec's example of an evaluation-level error).
func ErrorContext(status int, message string) map[string]any {
	return map[string]any{"error": map[string]any{"status": status, "message": message}}
}

// EvaluationsResponse is the answer to an evaluations request with items: one decision per
// evaluated item, in request order (fewer than the items when a semantic stopped early).
type EvaluationsResponse struct {
	Evaluations []Decision `json:"evaluations"`
}

// Stop reports whether a semantic stops after a decision.
func Stop(semantic string, decision bool) bool {
	switch semantic {
	case DenyOnFirstDeny:
		return !decision
	case PermitOnFirstPermit:
		return decision
	}
	return false
}

// SubjectResult, ResourceResult and ActionResult are search results.
type (
	SubjectResult struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	ResourceResult struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	ActionResult struct {
		Name string `json:"name"`
	}
)

// SearchResponse is the answer to a search: a page of results, the next page's token ("" after
// the last page) and, when there is something to say, a context.
type SearchResponse struct {
	Results any            `json:"results"`
	Page    PageResponse   `json:"page"`
	Context map[string]any `json:"context,omitempty"`
}

// PageResponse is the page part of a search answer.
type PageResponse struct {
	NextToken string `json:"next_token"`
	Count     int    `json:"count"`
}

// Page sizes of searches.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// Paginate cuts a page out of keys, sorted and unique: the keys after the page token's (keyset
// paging, so pages stay stable when the revision changes between them: nothing is repeated, and
// only what changed can be missed), at most the page's limit of them. next is "" when nothing
// follows.
func Paginate(keys []string, p Page) (page []string, next string, err *Error) {
	start := 0
	if p.Token != "" {
		after, ok := decodeToken(p.Token)
		if !ok {
			return nil, "", errorf("page.token is not a token this server gave")
		}
		start = sort.SearchStrings(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	limit := p.Limit
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	end := min(len(keys), start+limit)
	page = keys[start:end]
	if end < len(keys) && len(page) > 0 {
		next = encodeToken(page[len(page)-1])
	}
	return page, next, nil
}

// tokenPrefix marks a page token: "k1." and the last key given, base64url.
const tokenPrefix = "k1."

func encodeToken(after string) string {
	return tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(after))
}

func decodeToken(tok string) (string, bool) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok || len(rest) > 2*MaxNameBytes {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Metadata is the PDP metadata of /.well-known/authzen-configuration.
type Metadata struct {
	PolicyDecisionPoint       string   `json:"policy_decision_point"`
	AccessEvaluationEndpoint  string   `json:"access_evaluation_endpoint"`
	AccessEvaluationsEndpoint string   `json:"access_evaluations_endpoint"`
	SearchSubjectEndpoint     string   `json:"search_subject_endpoint"`
	SearchResourceEndpoint    string   `json:"search_resource_endpoint"`
	SearchActionEndpoint      string   `json:"search_action_endpoint"`
	Capabilities              []string `json:"capabilities,omitempty"`
}

// NewMetadata is the metadata of the PDP at base (a URL without a trailing slash, e.g.
// https://permsd.example or https://permsd.example/instances/campaign).
func NewMetadata(base string) Metadata {
	return Metadata{
		PolicyDecisionPoint:       base,
		AccessEvaluationEndpoint:  base + "/access/v1/evaluation",
		AccessEvaluationsEndpoint: base + "/access/v1/evaluations",
		SearchSubjectEndpoint:     base + "/access/v1/search/subject",
		SearchResourceEndpoint:    base + "/access/v1/search/resource",
		SearchActionEndpoint:      base + "/access/v1/search/action",
	}
}
