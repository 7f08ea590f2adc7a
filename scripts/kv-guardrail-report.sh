#!/usr/bin/env bash
# Measures the quality guardrail with eval-kv on the two tiny TinyStories models in ../shared: each
# policy at an aggressive setting without the guardrail, with it, with as many heads moved whatever
# they see (threshold 0: the first heads in layer order), and the same policy at a larger budget of
# similar bytes. Writes the "Quality guardrail" section of docs/kv-quality.md (replacing the one
# there; scripts/kv-quality-report.sh runs it after kv-report). Build first (./mvnw -q install
# -DskipTests); takes about half an hour on two busy cores.
# Usage: scripts/kv-guardrail-report.sh [chunks]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="${KVCACHE_SHARED:-$root/../shared}"
doc="$root/docs/kv-quality.md"
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
table="| model | policy | settings | memory ratio | bytes held | top-1 agreement | mean KL | heads moved |
|---|---|---|---:|---:|---:|---:|---:|"
for model in stories260K.gguf tinystories-656k.gguf; do
  for run in "${runs[@]}"; do
    policy="${run%%|*}"
    args=()
    for setting in ${run#*|}; do
      args+=(--set "$setting")
    done
    row="$("$root/bin/kvcache" eval-kv --model "$shared/models/tiny/$model" --file "$shared/eval/tinystories-eval.txt" \
      --chunks "$chunks" --recall-probes 0 --greedy-tokens 0 --json --policy "$policy" "${args[@]}" |
      jq -r --arg settings "${run#*|}" '"| \(.model) | \(.policy) | \($settings | gsub("guardrail.enabled=true "; "")) | \(.memory_ratio * 1000 | round / 1000) | \(.bytes_held) | \(.top1_agreement * 1000 | round / 1000) | \(.mean_kl * 10000 | round / 10000) | \(.guardrail_moves) |"')"
    table="$table
$row"
  done
done
section="## Quality guardrail

What the guardrail (\`kvcache.guardrail.*\`, README \"Quality guardrail\") buys at aggressive settings,
measured as above with \`eval-kv\` ($chunks chunks of 512 tokens per model, the first 256 the prompt, the
other 256 decoded teacher-forced against the full cache; no greedy or recall runs). Written by
\`scripts/kv-guardrail-report.sh\`. Per policy: the aggressive setting alone; with the guardrail at the
thresholds given (\`guardrail.max-heads\` 0.25 throughout: 5 of stories260K's 20 KV heads, 2 of
tinystories-656k's 8); at threshold 0, which moves as many heads whatever they see (the first ones in
layer order, once watched for 8 calls), so the choice of heads is told apart from the bytes spent on
them; and the policy at a larger budget of similar bytes. Heads moved: mean over the chunks. A
guarded window tracks each entry's attention, 4 bytes more an entry, which its memory ratio includes.

$table"
# the file without its old section (from its heading to the next one), then the new section at the end
others="$(awk '/^## Quality guardrail$/ {skip = 1; next} /^## / {skip = 0} !skip' "$doc")"
printf '%s\n\n%s\n' "$others" "$section" > "$doc"
