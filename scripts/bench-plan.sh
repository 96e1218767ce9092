#!/usr/bin/env bash
# Times `permsctl plan` (wall time and peak RSS) on the large generated repository, kept in a
# Git repository whose branch live is the generated tree, against working trees that change 1,
# 100 and 10,000 (assignment, user) pairs, and prints a markdown table for docs/benchmarks.md.
# Needs bin/ built (make build) and the large repository generated (make bench does both).
set -euo pipefail
cd "$(dirname "$0")/.."
large=${LARGE:-.cache/bench/large}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$large" "$work/repo"
rm -f "$work/repo/inputs.jsonl"
( cd "$work/repo" && git init -q && git add -A && git -c user.email=bench@example.org -c user.name=bench commit -qm base && git branch live )

# change N: adds a user to N (assignment, user) pairs, spread over the assignments.
change() {
  python3 - "$work/repo" "$1" <<'PY'
import glob, os, sys
root, n = sys.argv[1], int(sys.argv[2])
files = sorted(glob.glob(os.path.join(root, "assignments", "*.yaml")))
docs = []
for f in files:
    docs.append((f, open(f).read().split("\nusers:\n")))
done, i = 0, 0
while done < n:
    for k, (f, parts) in enumerate(docs):
        for j in range(1, len(parts)):
            if done >= n:
                break
            parts[j] = "  - u%06d\n" % ((done * 7919 + 13) % 100000) + parts[j]
            done += 1
        if done >= n:
            break
for f, parts in docs:
    open(f, "w").write("\nusers:\n".join(parts))
PY
}

echo "| changed pairs | plan | peak RSS | users gaining | deny |"
echo "|---:|---:|---:|---:|---:|"
for n in 1 100 10000; do
  ( cd "$work/repo" && git checkout -q -- . )
  change "$n"
  out=$( { /usr/bin/time -f '%e %M' bin/permsctl -C "$work/repo" plan --format json >"$work/plan.json" || true; } 2>&1 | tail -1)
  read -r secs kb <<<"$out"
  summary=$(python3 -c "import json;s=json.load(open('$work/plan.json'))['summary'];print(s['users_gaining'], s['deny'])")
  read -r gaining deny <<<"$summary"
  printf '| %s | %.1f s | %d MiB | %s | %s |\n' "$n" "$secs" "$((kb / 1024))" "$gaining" "$deny"
done
