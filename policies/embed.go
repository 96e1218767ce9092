// Package policies embeds the Rego bundle: the evaluation rules (package permsets) and, beside
// each file, its tests.
package policies

import "embed"

// FS holds every .rego file of the bundle, tests included (the engine leaves tests out).
//
//go:embed permsets
var FS embed.FS
