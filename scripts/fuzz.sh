#!/usr/bin/env bash
# fuzz.sh TIME MINTIME package:Name...: runs each fuzz target for TIME.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline exceeded" at the
# -fuzztime boundary when a loaded machine leaves a worker mid-call (golang/go#75804, fixed in Go
# 1.27). That failure writes no failing input. A target that fails that way, with no new file under
# testdata/fuzz/<Name>/, runs once more; any other failure, or a second one, fails the run.
set -uo pipefail
time=$1 mintime=$2
shift 2
go=${GO:-go}
for t in "$@"; do
  pkg=${t%%:*} name=${t##*:}
  corpus="$pkg/testdata/fuzz/$name"
  for try in 1 2; do
    echo "fuzz $t for $time"
    before=$(ls "$corpus" 2>/dev/null | sort)
    out=$(mktemp)
    "$go" test -run '^$' -fuzz "^${name}\$" -fuzztime "$time" -fuzzminimizetime "$mintime" "./$pkg" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    after=$(ls "$corpus" 2>/dev/null | sort)
    if [ "$rc" -eq 0 ]; then rm -f "$out"; break; fi
    if [ "$try" -eq 1 ] && [ "$before" = "$after" ] &&
       grep -q '^    context deadline exceeded$' "$out" && ! grep -q 'Failing input written' "$out"; then
      echo "fuzz $t: the coordinator's deadline race (golang/go#75804), no failing input; running it once more"
      rm -f "$out"
      continue
    fi
    rm -f "$out"
    exit 1
  done
done
