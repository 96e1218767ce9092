package server

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/permsets/permsets/daemon/snapshot"
	"github.com/permsets/permsets/engine"
)

// Results of permsets_decisions_total.
const (
	resAllow = iota
	resDeny
	resUndefined
	resError
	resOK // a path whose result is not a boolean
	numResults
)

var resultNames = [numResults]string{"allow", "deny", "undefined", "error", "ok"}

// statusCodes are the HTTP statuses permsets_http_requests_total counts by name; any other
// is counted as "other".
var statusCodes = []int{200, 207, 304, 400, 401, 404, 405, 413, 500, 503}

// metrics are the handler's own: the decision counters and histograms are resolved once, so
// the request path touches atomics only, never a label map or a lock.
type metrics struct {
	decisions [][numResults]prometheus.Counter // by decision path
	duration  []prometheus.Observer            // by decision path
	requests  [][]atomic.Uint64                // by route, then index in statusCodes (+1: other)
}

func newMetrics(reg *prometheus.Registry, state *snapshot.State) (*metrics, error) {
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "permsets_decisions_total",
		Help: "Decisions answered, by decision path and result: allow, deny, undefined or error " +
			"(ok for the paths whose result is not a boolean). A batch counts once per item.",
	}, []string{"path", "result"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "permsets_decision_duration_seconds",
		Help:    "Time to answer one decision, from its input's bytes to its result, by decision path.",
		Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16), // 50µs to 1.6s
	}, []string{"path"})
	m := &metrics{
		decisions: make([][numResults]prometheus.Counter, len(engine.DecisionPaths)),
		duration:  make([]prometheus.Observer, len(engine.DecisionPaths)),
		requests:  make([][]atomic.Uint64, len(routes)),
	}
	for i, p := range engine.DecisionPaths {
		for r, name := range resultNames {
			// Created up front (at zero) so rates exist from the start; allow and deny only on
			// the boolean path, ok only on the others.
			boolean := p == "allow"
			if boolean && r == resOK || !boolean && (r == resAllow || r == resDeny) {
				continue
			}
			m.decisions[i][r] = decisions.WithLabelValues(p, name)
		}
		m.duration[i] = duration.WithLabelValues(p)
	}
	for i := range m.requests {
		m.requests[i] = make([]atomic.Uint64, len(statusCodes)+1)
	}
	for _, c := range []prometheus.Collector{decisions, duration, &collector{state: state, m: m}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// decision counts and times one decision.
func (m *metrics) decision(path int, result any, failed bool, d time.Duration) {
	var r int
	switch {
	case failed:
		r = resError
	case result == nil:
		r = resUndefined
	case engine.DecisionPaths[path] != "allow":
		r = resOK
	case result == true:
		r = resAllow
	default: // false (allow is never anything but a boolean)
		r = resDeny
	}
	c := m.decisions[path][r]
	c.Inc()
	m.duration[path].Observe(d.Seconds())
}

func (m *metrics) request(route string, status int) {
	ri := len(routes) - 1
	for i, r := range routes {
		if r == route {
			ri = i
			break
		}
	}
	si := len(statusCodes)
	for i, c := range statusCodes {
		if c == status {
			si = i
			break
		}
	}
	m.requests[ri][si].Add(1)
}

// requestsByRoute sums the requests answered by each route over their status codes.
func (m *metrics) requestsByRoute() map[string]uint64 {
	out := make(map[string]uint64, len(routes))
	for i, route := range routes {
		var n uint64
		for j := range m.requests[i] {
			n += m.requests[i][j].Load()
		}
		out[route] = n
	}
	return out
}

// collector reports what is read at scrape time: the requests counted by the handler, and the
// reloads, revision and generation of the State.
type collector struct {
	state *snapshot.State
	m     *metrics
}

var (
	descRequests = prometheus.NewDesc("permsets_http_requests_total",
		"HTTP requests answered, by handler and status code.", []string{"handler", "code"}, nil)
	descReloads = prometheus.NewDesc("permsets_reloads_total",
		"Reloads of the source, by result (ok, failed).", []string{"result"}, nil)
	descRevision = prometheus.NewDesc("permsets_revision_info",
		"The revision served (1), with its Git commit.", []string{"revision", "commit"}, nil)
	descGeneration = prometheus.NewDesc("permsets_generation",
		"The generation of the revision served; 0 before the first.", nil, nil)
	descLoaded = prometheus.NewDesc("permsets_revision_loaded_timestamp_seconds",
		"When the revision served was loaded, in Unix seconds.", nil, nil)
	descSourceOK = prometheus.NewDesc("permsets_source_ok",
		"1 while the source is reachable, 0 while the last good revision is served without it.", nil, nil)
	descObjects = prometheus.NewDesc("permsets_objects",
		"Objects of the revision served, by kind.", []string{"kind"}, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descReloads, descRevision, descGeneration,
		descLoaded, descSourceOK, descObjects} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for ri, route := range routes {
		for si := range c.m.requests[ri] {
			n := c.m.requests[ri][si].Load()
			if n == 0 {
				continue
			}
			code := "other"
			if si < len(statusCodes) {
				code = strconv.Itoa(statusCodes[si])
			}
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(n), route, code)
		}
	}
	st := c.state.Status()
	ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(st.ReloadsOK), "ok")
	ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(st.ReloadsFailed), "failed")
	ch <- prometheus.MustNewConstMetric(descSourceOK, prometheus.GaugeValue, b2f(st.SourceOK))
	snap := c.state.Current()
	if snap == nil {
		ch <- prometheus.MustNewConstMetric(descGeneration, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descRevision, prometheus.GaugeValue, 1, snap.Revision, snap.Commit)
	ch <- prometheus.MustNewConstMetric(descGeneration, prometheus.GaugeValue, float64(snap.Generation))
	if !snap.LoadedAt.IsZero() {
		ch <- prometheus.MustNewConstMetric(descLoaded, prometheus.GaugeValue, float64(snap.LoadedAt.UnixNano())/1e9)
	}
	for _, o := range []struct {
		kind string
		n    int
	}{
		{"instances", snap.Counts.Instances}, {"permission_sets", snap.Counts.Sets},
		{"roles", snap.Counts.Roles}, {"users", snap.Counts.Users},
		{"assignments", snap.Counts.Assignments}, {"files", snap.Counts.Files},
	} {
		ch <- prometheus.MustNewConstMetric(descObjects, prometheus.GaugeValue, float64(o.n), o.kind)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler serves the registry in Prometheus' text format (or what the scraper
// negotiates); errors in collection are served as 500.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}
