package audit

import (
	"context"
	"testing"
	"time"
)

// TestExpiryInstant: the audit judges expiry with the decision rules' boundary. Kwame's
// fellowship (examples/nation) expires 2027-01-31T23:59:59Z: one nanosecond before, it is
// expiring (and active); at exactly that instant it is expired, and gives nothing.
func TestExpiryInstant(t *testing.T) {
	m := load(t, "../examples/nation")
	expires := time.Date(2027, 1, 31, 23, 59, 59, 0, time.UTC)
	for _, tc := range []struct {
		now               time.Time
		status            string
		expired, expiring int
	}{
		{expires.Add(-time.Nanosecond), StatusExpiring, 0, 1},
		{expires, StatusExpired, 1, 0},
	} {
		r, err := Compute(context.Background(), m, Options{Now: tc.now})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range r.Instances {
			if in.ID != "campaign" {
				continue
			}
			if len(in.ExpiredAssignments) != tc.expired || len(in.ExpiringAssignments) != tc.expiring {
				t.Errorf("at %v: expired %+v, expiring %+v", tc.now, in.ExpiredAssignments, in.ExpiringAssignments)
			}
			found := false
			for _, s := range in.Sets {
				for _, h := range s.Holders {
					if h.Assignment == "fall-fellowship-2026" {
						found = true
						if h.Status != tc.status {
							t.Errorf("at %v: status %q, want %q", tc.now, h.Status, tc.status)
						}
					}
				}
			}
			if !found {
				t.Errorf("at %v: no holding of fall-fellowship-2026", tc.now)
			}
		}
	}
}
