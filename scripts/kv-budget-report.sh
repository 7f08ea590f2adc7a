#!/usr/bin/env bash
# Measures per-head budgets (Ada-KV's pooled heavy hitters against equal shares) at matched bytes,
# and every policy on the multi-turn re-read probe, with eval-kv on the two tiny TinyStories models
# (--rereads: each chunk's first half is a first turn, compacted, then re-read by a second turn);
# writes the JSON lines to $out and docs/kv-quality.md's "Per-head budgets and a second turn"
# section (to $out.md, and in place of the one there, at the end).
# Usage: scripts/kv-budget-report.sh [out-file] [chunks]   (build first: ./mvnw -q install -DskipTests)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-target/kv-budget-report.jsonl}"
chunks="${2:-4}"
shared="${KVCACHE_SHARED_DIR:-$root/../shared}"
mkdir -p "$(dirname "$out")"
: > "$out"
hh="heavy-hitter.budget-allocation"
mp="mixed-precision.budget-allocation"
# policy|--set settings: each budget-allocated point twice (uniform, adaptive), then the others
points=()
for shares in 0.05 0.1 0.2; do
  for a in uniform adaptive; do
    points+=("heavy-hitter|--set heavy-hitter.recent-ratio=$shares --set heavy-hitter.heavy-ratio=$shares --set $hh=$a")
  done
done
for a in uniform adaptive; do
  points+=("heavy-hitter|--set heavy-hitter.observation-window=32 --set $hh=$a"
    "heavy-hitter|--set kv-type=q4 --set $hh=$a"
    "mixed-precision|--set $mp=$a" "mixed-precision|--set mixed-precision.low-bits=2 --set $mp=$a")
done
points+=("full|" "full|--set kv-type=q4" "full|--set kv-type=q3" "window|--set window.recent=64" "window|--set window.recent=128"
  "window|--set window.recent=128 --set kv-type=q4" "adaptive|" "span|" "mixed-precision|--set kv-type=q4"
  "full|--set kv-type=q4 --set kv-residual=8 --set kv-scale=e5m3"
  "window|--set window.recent=128 --set kv-type=q4 --set kv-scale=e5m3")
for model in stories260K tinystories-656k; do
  for point in "${points[@]}"; do
    # shellcheck disable=SC2086
    bin/kvcache eval-kv --model "$shared/models/tiny/$model.gguf" --file "$shared/eval/tinystories-eval.txt" \
      --chunks "$chunks" --rereads "$chunks" --recall-probes 0 --greedy-tokens 0 --policy "${point%%|*}" ${point#*|} \
      --json | tr -d '\n' >> "$out"
    echo >> "$out"
  done
done
python3 scripts/kv-budget-table.py "$out" > "$out.md"
# docs/kv-quality.md: every other section as it was, this one anew at the end (as
# scripts/kv-guardrail-report.sh does with its own)
doc=docs/kv-quality.md
others="$(awk '/^## Per-head budgets and a second turn$/ {skip = 1; next} /^## / {skip = 0} !skip' "$doc")"
printf '%s\n\n%s\n' "$others" "$(cat "$out.md")" > "$doc"
echo "wrote $out, $out.md and $doc"
