#!/usr/bin/env bash
# Prints the path of a stock `opa` binary of the version go.mod uses, building it from the Go
# module proxy the first time (cached in $PERMSETS_CACHE, default ~/.cache/permsets).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(go list -m -f '{{.Version}}' github.com/open-policy-agent/opa)
cache=${PERMSETS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/permsets}
dir="$cache/opa-$version"
if [ ! -x "$dir/opa" ]; then
  mkdir -p "$dir"
  echo "building stock opa $version into $dir (once)" >&2
  (cd "$dir" && GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/open-policy-agent/opa@$version")
fi
echo "$dir/opa"
