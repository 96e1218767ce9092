// Package schemas holds the JSON Schemas (draft-07) of every config kind and of every
// `--format json` output, embedded so the binaries carry them.
package schemas

import "embed"

// FS holds every *.schema.json file of this directory.
//
//go:embed *.schema.json
var FS embed.FS

// BaseURL is the prefix of every schema's $id.
const BaseURL = "https://permsets.dev/schemas/v1/"
