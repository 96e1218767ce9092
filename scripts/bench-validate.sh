#!/usr/bin/env bash
# Times `permsctl validate` (wall time and peak RSS, best of RUNS) on three generated repository
# sizes and prints a markdown table for docs/benchmarks.md. Needs bin/ built (make build).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
work=${BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${BENCH_DIR:-}" ] && rm -rf "$work"' EXIT

sizes=(
  "small  -instances 1  -sets 50    -users 1000   -roles 10   -pairs 2000"
  "medium -instances 3  -sets 1000  -users 10000  -roles 100  -pairs 100000"
  "large  -instances 10 -sets 10000 -users 100000 -roles 1000 -pairs 1000000"
)

measure() { # prints "seconds kilobytes" of one run
  local out
  if [ -x /usr/bin/time ]; then
    out=$( { /usr/bin/time -f '%e %M' bin/permsctl validate "$1" >/dev/null; } 2>&1 | tail -1)
  else
    local start end
    start=$(date +%s.%N); bin/permsctl validate "$1" >/dev/null; end=$(date +%s.%N)
    out="$(echo "$end - $start" | bc) 0"
  fi
  echo "$out"
}

echo "| size | files | documents | user-set pairs | generate | validate (best of $RUNS) | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for line in "${sizes[@]}"; do
  read -r name flags <<<"$line"
  dir="$work/$name"
  if [ ! -d "$dir" ]; then
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    bin/permsgen -out "$dir" $flags 2>/dev/null
    gen_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  else
    gen_ms="-"
  fi
  best_s=""; best_kb=""
  for _ in $(seq "$RUNS"); do
    read -r s kb <<<"$(measure "$dir")"
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; fi
    if [ -z "$best_kb" ] || [ "$kb" -gt "$best_kb" ]; then best_kb=$kb; fi
  done
  summary=$(bin/permsctl validate --format json "$dir")
  files=$(echo "$summary" | grep -m1 '"files"' | tr -dc 0-9)
  docs=$(echo "$summary" | grep -m1 '"documents"' | tr -dc 0-9)
  pairs=$(echo "$summary" | grep -m1 '"userSetPairs"' | tr -dc 0-9)
  echo "| $name | $files | $docs | $pairs | ${gen_ms} ms | ${best_s} s | $((best_kb / 1024)) MiB |"
done
