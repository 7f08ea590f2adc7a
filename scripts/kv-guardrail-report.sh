#!/usr/bin/env bash
# Measures the quality guardrail with eval-kv on the two tiny TinyStories models in ../shared: each
# policy at an aggressive setting without the guardrail, with it, with the same number of heads moved
# regardless of what they see (threshold 0: the first heads in layer order), and the same policy at a
# larger budget for comparison at similar bytes. Prints the markdown table of docs/kv-quality.md's
# "Quality guardrail" section. Build first (./mvnw -q install -DskipTests); takes some minutes on two cores.
# Usage: scripts/kv-guardrail-report.sh [chunks]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${KVCACHE_SHARED:-$root/../shared}"
chunks="${1:-4}"
g="guardrail.enabled=true"
runs=(
  "window|window.recent=32"
  "window|window.recent=32 $g guardrail.threshold=0.05"
  "window|window.recent=32 $g guardrail.threshold=0.02"
  "window|window.recent=32 $g guardrail.threshold=0"
  "window|window.recent=64"
  "window|window.recent=96"
  "heavy-hitter|heavy-hitter.recent-ratio=0.05 heavy-hitter.heavy-ratio=0.05"
  "heavy-hitter|heavy-hitter.recent-ratio=0.05 heavy-hitter.heavy-ratio=0.05 $g guardrail.threshold=0.2"
  "heavy-hitter|heavy-hitter.recent-ratio=0.05 heavy-hitter.heavy-ratio=0.05 $g guardrail.threshold=0"
  "heavy-hitter|heavy-hitter.recent-ratio=0.1 heavy-hitter.heavy-ratio=0.1"
  "mixed-precision|mixed-precision.low-bits=2"
  "mixed-precision|mixed-precision.low-bits=2 $g guardrail.threshold=0.5"
  "mixed-precision|mixed-precision.low-bits=2 $g guardrail.threshold=0"
  "mixed-precision|mixed-precision.low-bits=2 mixed-precision.important-ratio=0.2"
  "span|span.length=16 span.recent=32"
  "span|span.length=16 span.recent=32 $g guardrail.threshold=0.3"
  "span|span.length=16 span.recent=32 $g guardrail.threshold=0"
  "span|span.length=8 span.recent=32"
)
echo "| model | policy | settings | memory ratio | bytes held | top-1 agreement | mean KL | heads moved |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
for model in stories260K.gguf tinystories-656k.gguf; do
  for run in "${runs[@]}"; do
    policy="${run%%|*}"
    args=()
    for setting in ${run#*|}; do
      args+=(--set "$setting")
    done
    "$root/bin/kvcache" eval-kv --model "$shared/models/tiny/$model" --file "$shared/eval/tinystories-eval.txt" \
      --chunks "$chunks" --recall-probes 0 --greedy-tokens 0 --json --policy "$policy" "${args[@]}" |
      jq -r --arg settings "${run#*|}" '"| \(.model) | \(.policy) | \($settings | gsub("guardrail.enabled=true "; "")) | \(.memory_ratio * 1000 | round / 1000) | \(.bytes_held) | \(.top1_agreement * 1000 | round / 1000) | \(.mean_kl * 10000 | round / 10000) | \(.guardrail_moves) |"'
  done
done
