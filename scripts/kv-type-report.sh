#!/usr/bin/env bash
# Measures every policy at every kv-type with eval-kv on the two tiny TinyStories models (KL and
# top-1 against the full fp16 cache, memory ratio), and the bytes per cache entry of random-weight
# models with head dims 64 and 128; writes the JSON lines to $out, and docs/kv-quality.md's
# "Quality per byte: kv-type" section (to $out.md and in place, after the rest of the file).
# Usage: scripts/kv-type-report.sh [out-file] [chunks]   (build first: ./mvnw -q install -DskipTests)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-target/kv-type-report.jsonl}"
chunks="${2:-4}"
shared="${KVCACHE_SHARED_DIR:-$root/../shared}"
mkdir -p "$(dirname "$out")"
: > "$out"
# policy|--set settings: each policy at the kv-types that tell most per minute of measuring
points=(
  "full|--set kv-type=q8" "full|--set kv-type=q4" "full|--set kv-type=q3" "full|--set kv-type=q2"
  "full|--set kv-type=q4 --set kv-residual=0" "full|--set kv-type=q3 --set kv-residual=16"
  "window|--set window.recent=128" "window|--set window.recent=128 --set kv-type=q4"
  "window|--set window.recent=128 --set kv-type=q3" "window|--set window.recent=96 --set kv-type=q4"
  "heavy-hitter|" "heavy-hitter|--set kv-type=q4" "heavy-hitter|--set heavy-hitter.observation-window=32"
  "heavy-hitter|--set heavy-hitter.observation-window=32 --set kv-type=q4"
  "adaptive|--set kv-type=q4"
  "mixed-precision|--set kv-type=q4" "mixed-precision|--set kv-type=q4 --set mixed-precision.low-bits=2"
  "span|--set kv-type=q4"
  "full|--set kv-type=q4 --set kv-residual=0 --set kv-scale=e5m3"
  "full|--set kv-type=q4 --set kv-residual=8 --set kv-scale=e5m3" "full|--set kv-type=q3 --set kv-scale=e5m3"
  "window|--set window.recent=128 --set kv-type=q4 --set kv-scale=e5m3"
)
for model in stories260K tinystories-656k; do
  for point in "${points[@]}"; do
    # shellcheck disable=SC2086
    bin/kvcache eval-kv --model "$shared/models/tiny/$model.gguf" --file "$shared/eval/tinystories-eval.txt" \
      --chunks "$chunks" --recall-probes 0 --greedy-tokens 0 --policy "${point%%|*}" ${point#*|} --json \
      | tr -d '\n' >> "$out"
    echo >> "$out"
  done
done
# bytes per entry where heads are as wide as real models': one 512-token chunk of random-weight models
for hd in 64 128; do
  model="$(dirname "$out")/synthetic-hd$hd.gguf"
  [ -f "$model" ] || python3 "$shared/tools/make_synthetic_gguf.py" --arch llama \
    --vocab-from "$shared/reference/vocab/ggml-vocab-llama-spm.gguf" --dim 256 --layers 2 --heads $((256 / hd)) \
    --kv-heads 1 --head-dim $hd --ffn 512 --ctx 512 --out "$model" > /dev/null
  for type in "f16" "q8" "q4" "q2" "q4 --set kv-residual=0" "q4 --set kv-residual=0 --set kv-scale=e5m3"; do
    # shellcheck disable=SC2086
    bin/kvcache eval-kv --model "$model" --file "$shared/eval/tinystories-eval.txt" --chunks 1 --recall-probes 0 \
      --greedy-tokens 0 --set kv-type=$type --json | tr -d '\n' >> "$out"
    echo >> "$out"
  done
done
python3 scripts/kv-type-table.py "$out" > "$out.md"
# docs/kv-quality.md: everything before this script's section as it was, the section anew, then
# the sections after it as they were (e.g. scripts/kv-guardrail-report.sh's)
doc=docs/kv-quality.md
marker="<!-- written by scripts/kv-type-report.sh -->"
own="## Quality per byte: kv-type"
{
  awk -v m="$marker" '$0 == m { exit } { print }' "$doc"
  cat "$out.md"
  awk -v m="$marker" -v own="$own" '$0 == m { mine = 1; next } mine && /^## / && $0 != own { mine = 0; after = 1 }
    after { print }' "$doc" | sed '1s/^/\n/'
} > "$doc.new"
mv "$doc.new" "$doc"
echo "wrote $out, $out.md and $doc"
