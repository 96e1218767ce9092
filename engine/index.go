package engine

import "strings"

// How a holding gives its set: ViaDirect for an assignment, ViaRolePrefix and the role's id for
// a role.
const (
	ViaDirect     = "direct"
	ViaRolePrefix = "role:"
)

// Via is how a holding gives its set: ViaDirect, or ViaRole of a role's id.
type Via string

// ViaRole is the Via of a holding through a role.
func ViaRole(role string) Via { return Via(ViaRolePrefix + role) }

// Direct reports whether the holding is an assignment.
func (v Via) Direct() bool { return v == ViaDirect }

// Role is the role's id of a holding through a role; false for an assignment.
func (v Via) Role() (string, bool) {
	role, ok := strings.CutPrefix(string(v), ViaRolePrefix)
	if !ok {
		return "", false
	}
	return role, true
}
