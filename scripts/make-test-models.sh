#!/usr/bin/env bash
# Regenerates the test models that ../shared/reference has llama.cpp outputs for but ../shared/models
# does not ship (for size), and the random-weight models of the further families whose llama.cpp
# outputs are in kvcache-core/src/test/resources/llama-cpp-reference (written by make_arch_gguf.py),
# byte-identical to the files the references were computed on, into build/test-models/. Needs
# python3 with numpy. Also makes the SmolLM2-135M-shaped Q8_0 model
# the benchmarks use, when called with --bench.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
shared="$root/../shared"
out="$root/build/test-models"
tool="$shared/tools/make_synthetic_gguf.py"
vocab="$shared/reference/vocab"
mkdir -p "$out"

make() { # name sha256 args... (of make_synthetic_gguf.py)
  make_with "$tool" "$@"
}

make_arch() { # name sha256 args... (of make_arch_gguf.py)
  make_with "$root/scripts/make_arch_gguf.py" "$@"
}

make_with() { # generator name sha256 args...
  local generator=$1 name=$2 sha=$3
  shift 3
  if [ -f "$out/$name" ] && [ "$(sha256sum "$out/$name" | cut -d' ' -f1)" = "$sha" ]; then
    return
  fi
  python3 "$generator" "$@" --out "$out/$name" >/dev/null
  local got
  got=$(sha256sum "$out/$name" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    echo "make-test-models: $name has sha256 $got, expected $sha" >&2
    rm -f "$out/$name"
    exit 1
  fi
}

llama3=(--arch llama --vocab-from "$vocab/ggml-vocab-llama-bpe.gguf" --dim 256 --layers 4 --heads 4 --kv-heads 2 --ffn 768 --rope-base 500000 --eps 1e-5 --tied --seed 1 --name llama3-tiny)
llama2=(--arch llama --vocab-from "$vocab/ggml-vocab-llama-spm.gguf" --dim 256 --layers 4 --heads 4 --kv-heads 4 --ffn 768 --rope-base 10000 --eps 1e-5 --untied --seed 2 --name llama2-tiny)
qwen3=(--arch qwen3 --vocab-from "$vocab/ggml-vocab-gpt-2.gguf" --dim 256 --layers 3 --heads 4 --kv-heads 2 --head-dim 64 --ffn 768 --rope-base 1000000 --eps 1e-6 --tied --seed 4 --name qwen3-tiny)

make llama3-tiny-Q8_0.gguf fcb06c3d3afcd8b0854f9dc4f01b905df8aaa012b81daf7355dea3d9182c5deb "${llama3[@]}" --type q8_0
make llama2-tiny-F16.gguf 3475c0ce25d87b531af080c6495d7766814f8c50f3e26e81977d61c638d4ff65 "${llama2[@]}" --type f16
make llama2-tiny-BF16.gguf f94378f208522a7bbb309af5dc2bfbdb25d37c1e9b71ec561215de620afba583 "${llama2[@]}" --type bf16
make qwen3-tiny-F16.gguf 31a983fd12a21d2daf2a0f819e9b4414ca107c3650cca50a371a12eac14a3704 "${qwen3[@]}" --type f16

make_arch gemma2-tiny-F16.gguf be01ce39343ad1d988c1a08814a730644ad161315ccbcca399a3dd8e0dc5ec47 --arch gemma2 --vocab-from "$vocab/ggml-vocab-llama-spm.gguf" --seed 21
make_arch gemma3-tiny-F16.gguf 9e34a594ee8edb78f79aab8525b9b87091b15de285b68d8ca00720a018a3ab31 --arch gemma3 --vocab-from "$vocab/ggml-vocab-llama-spm.gguf" --seed 22
make_arch granite-tiny-F16.gguf 26fe2f8faeb1bd947ccd8bfd138fa6433b657c231b4b24e2ff9ed32e666e6442 --arch granite --vocab-from "$vocab/ggml-vocab-gpt-2.gguf" --seed 23
make_arch phi3-tiny-F16.gguf df1bdf66ec5d0b9e98efd23a9a4366c126e624cbca43fd6d85317dca192fce4e --arch phi3 --vocab-from "$vocab/ggml-vocab-llama-spm.gguf" --seed 24
make_arch smollm3-tiny-F16.gguf 76f5254eabecf764f33b5b26ae70d4768d08fab7856c4db89bdeb492751bed84 --arch smollm3 --vocab-from "$vocab/ggml-vocab-llama-bpe.gguf" --seed 25
make_arch gemma4-tiny-F16.gguf 85f38ea56f6780d055aafc52722022f6da2b2dc6529f534682632e55eb5c91a3 --arch gemma4 --vocab-from "$vocab/ggml-vocab-llama-spm.gguf" --seed 27
make_arch mistral3-tiny-F16.gguf 03f489b069ddca65d57737880457920f9ae616f141025b5aeef5c4afbe9cb342 --arch mistral3 --vocab-from "$vocab/ggml-vocab-llama-bpe.gguf" --seed 26

if [ "${1:-}" = "--bench" ] && [ ! -f "$out/smollm2-135m-shape-Q8_0.gguf" ]; then
  python3 "$tool" --arch llama --vocab-from "$vocab/ggml-vocab-gpt-2.gguf" --dim 576 --layers 30 --heads 9 \
    --kv-heads 3 --ffn 1536 --ctx 8192 --rope-base 100000 --tied --type q8_0 --seed 1 \
    --out "$out/smollm2-135m-shape-Q8_0.gguf" >/dev/null
fi
echo "test models in $out"
