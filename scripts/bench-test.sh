#!/usr/bin/env bash
# Times `permsctl test` with 1,000 decision cases on the large generated repository against
# `permsctl validate` of the same tree (best of RUNS each, wall time and peak RSS), and prints a
# markdown table for docs/benchmarks.md. The cases are the first 1,000 inputs permsgen wrote,
# grouped in one Test document per instance; their expectations are the model's own answers,
# recorded by a first run (the figure is the cost of running tests, not their verdicts), and the
# timed runs must all pass. Needs bin/ built and the large repository (make bench does both).
set -euo pipefail
cd "$(dirname "$0")/.."
large=${LARGE:-.cache/bench/large}
RUNS=${RUNS:-3}
CASES=${CASES:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$large" "$work/repo"
rm -f "$work/repo/inputs.jsonl"
mkdir -p "$work/repo/tests"

# write EXPECT_FILE: writes tests/bench-*.yaml, each case expecting what EXPECT_FILE (a JSON list
# of allow/deny in input order) says, or allow when there is none.
write() {
  python3 - "$large/inputs.jsonl" "$work/repo/tests" "$CASES" "${1:-}" <<'PY'
import json, sys, collections
inputs, out, n, expect = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cases = [json.loads(l) for _, l in zip(range(n), open(inputs))]
verdicts = json.load(open(expect)) if expect else ["allow"] * len(cases)
by = collections.defaultdict(list)
for i, c in enumerate(cases):
    by[c["instance"]].append((i, c))
for inst, cs in sorted(by.items()):
    with open(f"{out}/bench-{inst}.yaml", "w") as f:
        f.write(f"apiVersion: permsets/v1\nkind: Test\nid: bench-{inst}\ninstance: {inst}\ntime: 2026-12-01T00:00:00Z\ncases:\n")
        for i, c in cs:
            f.write(f"  - {{id: c{i:05d}, user: {c['user']}, permission: {json.dumps(c['permission'])}, expect: {verdicts[i]}}}\n")
PY
}

write
bin/permsctl test "$work/repo" --format json >"$work/first.json" || true
python3 - "$work/first.json" "$CASES" >"$work/expect.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["valid"], r["problems"][:3]
verdict = {}
for x in r["results"]:
    verdict[int(x["check"][1:])] = "allow" if x["status"] == "pass" else "deny"
print(json.dumps([verdict[i] for i in range(len(verdict))]))
PY
write "$work/expect.json"
allowed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).count("allow"))' "$work/expect.json")

best() { # best "seconds kilobytes" of RUNS runs of a command that must exit 0
  local best_s="" best_k="" out s k
  for _ in $(seq "$RUNS"); do
    out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1)
    read -r s k <<<"$out"
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s best_k=$k; fi
  done
  echo "$best_s $best_k"
}
read -r vs vk <<<"$(best bin/permsctl validate "$work/repo")"
read -r ts tk <<<"$(best bin/permsctl test "$work/repo")"
echo "| command | cases | wall (best of $RUNS) | peak RSS |"
echo "|---|---:|---:|---:|"
echo "| \`permsctl validate\` | - | ${vs} s | $((vk / 1024)) MiB |"
echo "| \`permsctl test\` | $CASES ($allowed allow) | ${ts} s | $((tk / 1024)) MiB |"
echo
echo "test costs $(awk "BEGIN{printf \"%.2f\", $ts - $vs}") s more than validate (target: under 2 s)"
