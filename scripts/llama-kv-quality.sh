#!/usr/bin/env bash
# The peer's side of docs/kv-quality.md: llama.cpp's quantized KV caches (-ctk/-ctv) on the same
# models and text as `bin/kvcache kv-report`, as mean KL and top-1 agreement against llama.cpp's own
# f16 cache, with the bytes each cache type keeps relative to f16. Writes
# docs/kv-quality-llama-cpp.md (or OUT).
#
#   LLAMA_BIN=/path/to/llama.cpp/build/bin scripts/llama-kv-quality.sh [MODEL.gguf...]
#
# Without models it measures the two tiny models that docs/kv-quality.md uses.
#
# Optional: TEXT (default ../shared/eval/tinystories-eval.txt), CTX (512), CHUNKS (12), THREADS (2),
# TYPES (default "q8_0 q5_1 q5_0 q4_1 q4_0 iq4_nl"). A quantized V cache needs flash attention in
# llama.cpp, so every run (the f16 base included) uses -fa on. llama.cpp quantizes a K row per head
# in blocks of 32, so it refuses every quantized type where the head dimension is not a multiple of
# 32; those rows say so instead of giving figures.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${LLAMA_BIN:?set LLAMA_BIN to a llama.cpp build/bin folder with llama-perplexity}"
text="${TEXT:-$root/../shared/eval/tinystories-eval.txt}"
ctx="${CTX:-512}"
chunks="${CHUNKS:-12}"
threads="${THREADS:-2}"
types="${TYPES:-q8_0 q5_1 q5_0 q4_1 q4_0 iq4_nl}"
out="${OUT:-$root/docs/kv-quality-llama-cpp.md}"
if [ $# -eq 0 ]; then
  set -- "$root/../shared/models/tiny/stories260K.gguf" "$root/../shared/models/tiny/tinystories-656k.gguf"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Bits per stored element of each ggml cache type (block bytes * 8 / block elements).
bits_per_element() {
  case "$1" in
    f16) echo 16 ;; q8_0) echo 8.5 ;; q5_1) echo 6 ;; q5_0) echo 5.5 ;;
    q4_1) echo 5 ;; q4_0|iq4_nl) echo 4.5 ;;
    *) echo "unknown cache type $1" >&2; exit 2 ;;
  esac
}

# llama-perplexity sometimes exits before its asynchronous logger has written the summary, so a
# run is repeated (up to three times) until the line the caller needs is there.
perplexity() { # log, line to wait for, model, cache type, extra args...
  local log="$1" wanted="$2" model="$3" type="$4"; shift 4
  for _ in 1 2 3; do
    "$LLAMA_BIN/llama-perplexity" -m "$model" -f "$text" -c "$ctx" --chunks "$chunks" -t "$threads" \
      -fa on -ctk "$type" -ctv "$type" "$@" > "$log" 2>&1 || return 1
    grep -q "$wanted" "$log" && return 0
  done
  return 1
}

{
echo "# llama.cpp's quantized KV caches"
echo
echo "Written by \`scripts/llama-kv-quality.sh\` from llama-perplexity (\`--kl-divergence\`, \`-fa on\`,"
echo "context $ctx, $chunks chunks of \`$(basename "$text")\`): each cache type against llama.cpp's own f16 cache"
echo "on the same file, the peer's side of [kv-quality.md](kv-quality.md). llama-perplexity scores the second"
echo "half of each chunk; the memory ratio is the cache type's bits per element over 16."
echo
echo "| model | llama.cpp cache | memory ratio | mean KL | top-1 agreement | PPL |"
echo "|---|---|---:|---:|---:|---:|"
for model in "$@"; do
  name="$(basename "$model" .gguf)"
  base="$work/$name.kld"
  if ! perplexity "$work/$name-f16.log" "\[$chunks\][0-9.]*," "$model" f16 --kl-divergence-base "$base"; then
    echo "llama-perplexity failed on $model; see its log:" >&2
    tail -20 "$work/$name-f16.log" >&2
    exit 1
  fi
  ppl="$(grep -o "\\[$chunks\\][0-9.]*" "$work/$name-f16.log" | sed "s/.*\\]//")"
  echo "| $name | f16 | 1.000 | 0 | 1.000 | $ppl |"
  for type in $types; do
    log="$work/$name-$type.log"
    ratio="$(awk -v b="$(bits_per_element "$type")" 'BEGIN { printf "%.3f", b / 16 }')"
    if perplexity "$log" '^Same top p' "$model" "$type" --kl-divergence-base "$base" --kl-divergence; then
      kl="$(sed -n 's/^Mean    KLD: *\([0-9.e+-]*\).*/\1/p' "$log")"
      top1="$(sed -n 's/^Same top p: *\([0-9.]*\) .*/\1/p' "$log")"
      qppl="$(sed -n 's/^Mean PPL(Q) *: *\([0-9.]*\).*/\1/p' "$log")"
      top1="$(awk -v p="$top1" 'BEGIN { printf "%.3f", p / 100 }')"
      echo "| $name | $type | $ratio | $kl | $top1 | $qppl |"
    else
      reason="$(grep -m1 -o 'cache type .*' "$log" || echo 'failed: see llama-perplexity output')"
      echo "| $name | $type | $ratio | refused: $reason | | |"
    fi
  done
done
} > "$out"
echo "wrote $out"
