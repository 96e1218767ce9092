//go:build !linux

package plan

import "testing"

// childMaxRSS is not measured here (TestCustomRulesMemoryLimit runs on Linux only).
func childMaxRSS(*testing.T) int64 { return 0 }
