#!/usr/bin/env bash
# Renders the golden plan comment (cmd/permsctl/testdata/plan/golden.md) to HTML as a forge
# would and takes two screenshots with Debian's headless Chromium: as posted (sections
# collapsed) and with every <details> open. Writes them to ${OUT:-.cache/plan-screenshots}.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-.cache/plan-screenshots}
mkdir -p "$out"
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "needs Debian's chromium: apt-get install chromium" >&2
  exit 1
fi
PLAN_HTML="$PWD/$out/plan.html" go test -count=1 -run 'TestPlanMarkdownRenders' ./cmd/permsctl >/dev/null
sed 's/<details>/<details open>/g' "$out/plan.html" >"$out/plan-open.html"
for page in plan plan-open; do
  "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1400 \
    --screenshot="$PWD/$out/$page.png" "file://$PWD/$out/$page.html" 2>/dev/null
done
echo "wrote $out/plan.png and $out/plan-open.png"
