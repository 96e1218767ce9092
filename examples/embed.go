// Package examples embeds the parts of the example repositories that permsctl writes itself:
// `permsctl init` writes examples/ci's CI workflow byte for byte.
package examples

import _ "embed"

// CIWorkflow is examples/ci/.github/workflows/permsets.yml: plan on pull requests, apply on main.
//
//go:embed ci/.github/workflows/permsets.yml
var CIWorkflow []byte

// CIWorkflowPath is where the workflow lives in a config repository.
const CIWorkflowPath = ".github/workflows/permsets.yml"
