#!/usr/bin/env python3
"""llama_prompt_lengths.py - llama.cpp's next-token probabilities after prefixes of one prompt.

llama.cpp evaluates a prompt batch of 64 queries or more with its tiled attention kernel and a
shorter one with its one-query kernel; the greedy references have prompts of 5 to 100 tokens, so
lengths between are not covered. This takes the longest greedy prompt of a reference written by
../shared/tools/make_reference.py, sends its first N tokens for each N to a llama-server started on
the model (threads 2, context 2048, as the reference), and records the top-10 probabilities of the
one token predicted, in the reference's "greedy" format.

  python3 scripts/llama_prompt_lengths.py --bin ../llama.cpp/build/bin --model build/test-models/gemma3-tiny-F16.gguf \\
      --reference kvcache-core/src/test/resources/llama-cpp-reference/gemma3-tiny-F16.json \\
      --lengths 24,32,40,48,56,63 --out gemma3-tiny-F16-prompt-lengths.json
"""

import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tools"))
import make_reference as mr  # noqa: E402  (the shared llama-server driver)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--lengths", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    with open(a.reference) as f:
        base = max(json.load(f)["greedy"], key=lambda g: len(g["prompt_ids"]))["prompt_ids"]
    runs = []
    with mr.Server(a.bin, a.model, threads=2):
        for n in [int(x) for x in a.lengths.split(",")]:
            r = mr.post("/completion", {"prompt": base[:n], "temperature": 0, "n_predict": 1, "n_probs": 10,
                                        "cache_prompt": False, "return_tokens": True, "seed": 0})
            steps = [{"id": s["id"], "top": [[t["id"], math.exp(t["logprob"])] for t in s["top_logprobs"]],
                      "top_logprobs": [t["logprob"] for t in s["top_logprobs"]]}
                     for s in r["completion_probabilities"]]
            runs.append({"prompt_ids": base[:n], "prompt_text": "first %d tokens" % n,
                         "generated_ids": r["tokens"], "steps": steps})
    with open(a.out, "w") as f:
        json.dump({"model": os.path.basename(a.model), "model_sha256": mr.sha256(a.model),
                   "server_args": "llama-server -m MODEL -t 2 -c 2048", "greedy": runs}, f, indent=1)


if __name__ == "__main__":
    main()
