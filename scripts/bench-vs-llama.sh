#!/usr/bin/env bash
# kvcache against llama.cpp on the same files, the same threads and the same run (DESIGN: "speed is a
# ratio"). Makes the benchmark models (random weights, real shapes) into $BENCH_DIR, runs
# `bin/kvcache bench` for prefill and decode at several depths and, when LLAMA_BIN names llama.cpp's
# build/bin folder, `llama-bench` on the same files, then prints a markdown table of the ratios.
#
#   scripts/bench-vs-llama.sh                       # kvcache only (models it cannot make are skipped)
#   LLAMA_BIN=../llama.cpp/build/bin scripts/bench-vs-llama.sh
#
# Environment: BENCH_DIR (models; default bench-models/, ignored by git), THREADS (2), MODELS (any of
# smollm-q8_0 llama1b-q4_k_m llama1b-q8_0), GEN (tokens decoded per decode test, 32), REPS (timed
# runs, best kept by kvcache and averaged by llama-bench, 2), SMOLLM_DEPTHS ("0 512 4096"),
# LLAMA1B_DEPTHS ("0"), POLICIES (extra kvcache policies decoded at the largest depth, e.g.
# "window heavy-hitter"; default none). Build kvcache first: ./mvnw -q install -DskipTests.
# The 1B models need llama-quantize (from LLAMA_BIN) once, to turn the F16 file into Q8_0 and Q4_K_M.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$root/../shared"
tool="$shared/tools/make_synthetic_gguf.py"
vocab="$shared/reference/vocab"
dir="${BENCH_DIR:-$root/bench-models}"
threads="${THREADS:-2}"
models="${MODELS:-smollm-q8_0 llama1b-q4_k_m llama1b-q8_0}"
gen="${GEN:-32}"
reps="${REPS:-2}"
smollm_depths="${SMOLLM_DEPTHS:-0 512 4096}"
llama1b_depths="${LLAMA1B_DEPTHS:-0}"
policies="${POLICIES:-}"
llama_bin="${LLAMA_BIN:-}"
mkdir -p "$dir"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT

# The shapes of SmolLM2-135M and Llama-3.2-1B (tied embeddings, as both ship), seeds as in
# ../shared/reference/perf.md so the files are the ones its figures were measured on.
smollm() {
  local f="$dir/smollm2-135m-shape-Q8_0.gguf"
  [ -f "$f" ] || python3 "$tool" --arch llama --vocab-from "$vocab/ggml-vocab-gpt-2.gguf" --dim 576 --layers 30 \
    --heads 9 --kv-heads 3 --ffn 1536 --ctx 8192 --rope-base 100000 --tied --type q8_0 --seed 1 --out "$f" >/dev/null
  echo "$f"
}

llama1b() { # type (Q8_0 or Q4_K_M)
  local f16="$dir/llama-3.2-1b-shape-F16.gguf" f="$dir/llama-3.2-1b-shape-$1.gguf"
  if [ ! -f "$f" ]; then
    if [ -z "$llama_bin" ] || [ ! -x "$llama_bin/llama-quantize" ]; then
      echo "bench: $f missing and no LLAMA_BIN/llama-quantize to make it; skipped" >&2
      return 1
    fi
    [ -f "$f16" ] || python3 "$tool" --arch llama --vocab-from "$vocab/ggml-vocab-llama-bpe.gguf" --dim 2048 \
      --layers 16 --heads 32 --kv-heads 8 --ffn 8192 --ctx 8192 --rope-base 500000 --eps 1e-5 --tied --seed 7 \
      --type f16 --out "$f16" >/dev/null
    "$llama_bin/llama-quantize" "$f16" "$f" "$1" >/dev/null 2>&1
  fi
  echo "$f"
}

# One kvcache measurement: prefill of P tokens, then G decoded tokens at depth P. Appends
# "model<TAB>test<TAB>engine<TAB>tokens/s" lines to $results.
kv() { # label file prompt gen test-name policy
  local out
  out=$("$root/bin/kvcache" bench --model "$2" --prompt-tokens "$3" --gen-tokens "$4" --repetitions "$reps" \
    --threads "$threads" --policy "$6" --json)
  python3 - "$1" "$5" "$out" >>"$results" <<'EOF'
import json, sys
label, test, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
key = "prefill_tokens_per_second" if test.startswith("prefill") else "decode_tokens_per_second"
print(f"{label}\t{test}\tkvcache\t{out[key]:.2f}")
EOF
}

llama() { # label file prompt gen depth test-name
  [ -n "$llama_bin" ] || return 0
  local out
  out=$("$llama_bin/llama-bench" -m "$2" -t "$threads" -p "$3" -n "$4" -d "$5" -r "$reps" -o json 2>/dev/null)
  python3 - "$1" "$6" "$out" >>"$results" <<'EOF'
import json, sys
label, test, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
print(f"{label}\t{test}\tllama.cpp\t{out[0]['avg_ts']:.2f}")
EOF
}

run_model() { # label file depths
  local label=$1 f=$2 depths=$3 d
  echo "bench: $label ($f)" >&2
  kv "$label" "$f" 512 1 "prefill 512" full
  llama "$label" "$f" 512 0 0 "prefill 512"
  for d in $depths; do
    # Depth 0 is a one-token prompt: kvcache needs at least one token before it decodes.
    kv "$label" "$f" "$((d > 0 ? d : 1))" "$gen" "decode @$d" full
    llama "$label" "$f" 0 "$gen" "$d" "decode @$d"
  done
  local deepest=${depths##* } p
  for p in $policies; do
    kv "$label" "$f" "$((deepest > 0 ? deepest : 1))" "$gen" "decode @$deepest $p" "$p"
  done
}

for m in $models; do
  case $m in
    smollm-q8_0) run_model "SmolLM2-135M shape Q8_0" "$(smollm)" "$smollm_depths" ;;
    llama1b-q4_k_m) f=$(llama1b Q4_K_M) && run_model "Llama-3.2-1B shape Q4_K_M" "$f" "$llama1b_depths" ;;
    llama1b-q8_0) f=$(llama1b Q8_0) && run_model "Llama-3.2-1B shape Q8_0" "$f" "$llama1b_depths" ;;
    *) echo "bench: unknown model $m" >&2; exit 2 ;;
  esac
done

python3 - "$results" "$threads" <<'EOF'
import sys
rows, order = {}, []
for line in open(sys.argv[1]):
    model, test, engine, ts = line.rstrip("\n").split("\t")
    if (model, test) not in rows:
        order.append((model, test))
        rows[(model, test)] = {}
    rows[(model, test)][engine] = float(ts)
print(f"threads: {sys.argv[2]}\n")
print("| model | test | kvcache t/s | llama.cpp t/s | ratio |")
print("| --- | --- | ---: | ---: | ---: |")
for key in order:
    r = rows[key]
    kv, ll = r.get("kvcache"), r.get("llama.cpp")
    ratio = f"{kv / ll:.2f}" if kv and ll else ""
    print(f"| {key[0]} | {key[1]} | {kv:.1f} | {'' if ll is None else f'{ll:.1f}'} | {ratio} |")
EOF
