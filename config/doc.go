// Package config is the config model of a permsets repository: it finds the files of a config
// root (an fs.FS), parses their YAML documents with positions and within budgets, checks each
// against its kind's JSON Schema, assembles them into one Model with every cross-check
// (assemble.go), parses permission strings, and diffs two models. Every problem it reports is a
// Problem with file:line:col, a stable code and, where it is about an object, that object. It
// knows nothing of OPA, of Git or of HTTP.
package config
