#!/usr/bin/env python3
"""Renders the JSON lines of scripts/kv-type-report.sh (eval-kv --json, one run per line) as the
markdown of docs/kv-quality.md's "Quality per byte: kv-type" section."""
import json
import sys

# llama.cpp's cache types: bits per element (block of 32: q8_0 34 bytes, q4_0 18 bytes)
LLAMA_BITS = {"q8_0": 8.5, "q4_0": 4.5}
# layers x KV heads x head width of the tiny models; the synthetic ones are 2 layers of 1 KV head
SHAPES = {"tinyllamas-stories-260k": ("stories260K", 5, 4, 8), "TinyStories-656K": ("tinystories-656k", 2, 4, 16)}


def shape(run):
    if run["model"] in SHAPES:
        return SHAPES[run["model"]]
    # per token and head the full cache holds fp16 key and value rows, 4 x head width bytes, and
    # per head one run of positions (8 bytes): 2 layers x 1 head over the chunk's tokens
    width = min((64, 128), key=lambda w: abs(run["full_bytes"] / 2 - 8 - run["context"] * 4 * w))
    return ("random weights, head dim %d" % width, 2, 1, width)


def describe(run):
    kv_type, shown = settings(run)
    return "%s, kv-type %s%s" % (run["policy"], kv_type, "" if shown == "defaults" else ", " + shown)


def settings(run):
    s = dict(run["settings"])
    kv_type = s.pop("kv-type", "f16")
    residual = s.pop("kv-residual", None)
    scale = s.pop("kv-scale", None)
    shown = ", ".join("%s=%s" % kv for kv in s.items() if kv[0] not in ("sinks",)) or "defaults"
    stored = [] if residual is None else ["residual %s" % residual]
    stored += [] if scale is None else ["%s scales" % scale]
    return kv_type + ("" if not stored else " (%s)" % ", ".join(stored)), shown


def kl(x):
    return "%.4f" % x if x == 0 or x >= 1e-3 else "%.1e" % x


MARKER = "<!-- written by scripts/kv-type-report.sh -->"


def main(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    order = []
    for run in runs:
        order += [] if shape(run)[0] in order else [shape(run)[0]]
    runs.sort(key=lambda r: order.index(shape(r)[0]))  # stable: each model's runs in the order measured
    chunks = max((r["chunks"] for r in runs if r["model"] in SHAPES), default=0)
    print(MARKER)
    print()
    print("## Quality per byte: kv-type")
    print()
    print("Every policy at the kv-types (`kvcache.kv-type`: the precision of the entries a policy keeps; keys "
          "Walsh-Hadamard rotated; the latest `kv-residual` entries in fp16) against the full fp16 cache, "
          "and llama.cpp's quantized cache types at the same bytes. Written by `scripts/kv-type-report.sh`, "
          "which `kv-report` leaves in place.")
    print()
    out = ["| model | policy | kv-type | settings | memory ratio | bytes per entry | mean KL | top-1 agreement |",
           "|---|---|---|---|---:|---:|---:|---:|"]
    seen_models = []
    for run in runs:
        label, layers, heads, width = shape(run)
        if label not in seen_models:
            seen_models.append(label)
            full_entry = 4 * width
            for name, bits in LLAMA_BITS.items():
                entry = 2 * width * bits / 8
                out.append("| %s | llama.cpp | %s | %s | %.3f | %.1f | | |" % (
                    label, name, "refused: block of 32 does not divide head width %d" % width if width % 32
                    else "K and V only, no positions", entry / full_entry, entry))
        kv_type, shown = settings(run)
        entry = run["memory_ratio"] * 4 * width
        quality = "| | |" if label.startswith("random") else "| %s | %.3f |" % (kl(run["mean_kl"]), run["top1_agreement"])
        out.append("| %s | %s | %s | %s | %.3f | %.1f %s" % (label, run["policy"], kv_type, shown, run["memory_ratio"],
                                                           entry, quality))
    print("\n".join(out))
    print()
    print("How measured: `eval-kv` on `tinystories-eval.txt`, %d chunks of 512 tokens per model, the first 256 the "
          "prompt and the other 256 scored one at a time (as above; fewer chunks than the tables above, so the "
          "f16 rows differ from theirs a little). Memory ratio: bytes held over the full fp16 cache's, positions "
          "and statistics included. Bytes per entry: per token and KV head, the ratio times the full cache's "
          "fp16 key and value rows (its positions are one run of 8 bytes per head, 0.016 bytes an entry at 512 "
          "tokens); quantized rows carry one scale per group of up to 32 values, fp16 or with `kv-scale=e5m3` one "
          "byte (symmetric codes, as llama.cpp's q4_0; each scale fitted to the least squared error of its "
          "group), the full and window policies store positions as runs of consecutive ones (8 bytes "
          "a run), the others 4 bytes an entry; the random-weight models (2 layers, 1 KV head, "
          "no quality measured) ran one 512-token chunk. llama.cpp's rows "
          "are the bits of its cache types (q8_0: 8.5, q4_0: 4.5 per value, K and V only) against the same "
          "full cache; it refuses them where a block of 32 does not divide the head width "
          "([kv-quality-llama-cpp.md](kv-quality-llama-cpp.md)), so our uniform q4 without a residual stands in "
          "for a q4_0-like cache: the same form (an fp16 scale per block and 4-bit codes, keys rotated), blocks "
          "of the head width. Before the scale-only rows, that stand-in stored a scale and a minimum per row "
          "and measured KL 0.2738 (stories260K) and 0.0243 (tinystories-656k) with 2 chunks; with scales "
          "covering each block's largest value, as q4_0 chooses them, before they were fitted, 0.3611 and "
          "0.0331 with 4 chunks. With e5m3 scales and no residual, q4 holds q4_0's 4.5 bits a value at head "
          "dim 16." % chunks)
    print()
    tiny = [r for r in runs if r["model"] in SHAPES]
    for model in SHAPES:
        rows = [r for r in tiny if r["model"] == model]
        uniform = [r for r in rows if r["policy"] == "full" and r["settings"].get("kv-type") == "q4"
                   and r["settings"].get("kv-residual") == "0" and "kv-scale" not in r["settings"]]
        if not uniform:
            continue
        bar = uniform[0]["mean_kl"]
        under30 = [r for r in rows if r["memory_ratio"] <= 0.30 and r["mean_kl"] < bar]
        under15 = [r for r in rows if r["memory_ratio"] <= 0.15 and r["top1_agreement"] >= 0.95]
        best30 = min(under30, key=lambda r: r["mean_kl"], default=None)
        best15 = max(under15, key=lambda r: r["top1_agreement"], default=None)
        name = SHAPES[model][0]
        print("- %s: uniform q4 without residual (the q4_0-like cache) KL %s at %.3f. At most 30%% of the bytes with a "
              "lower KL: %s. At most 15%% with top-1 of 95%% or more: %s." % (
                  name, kl(bar), uniform[0]["memory_ratio"],
                  "none" if best30 is None else "%s: KL %s at %.3f" % (describe(best30), kl(best30["mean_kl"]),
                                                                    best30["memory_ratio"]),
                  "none" if best15 is None else "%s: top-1 %.3f at %.3f" % (
                      describe(best15), best15["top1_agreement"], best15["memory_ratio"])))


if __name__ == "__main__":
    main(sys.argv[1])
