#!/usr/bin/env python3
"""Renders the JSON lines of scripts/kv-budget-report.sh (eval-kv --json --rereads, one run per
line) as the markdown of docs/kv-quality.md's "Per-head budgets and a second turn" section."""
import json
import sys

MODELS = {"tinyllamas-stories-260k": "stories260K", "TinyStories-656K": "tinystories-656k"}
ALLOCATION = ("heavy-hitter.budget-allocation", "mixed-precision.budget-allocation")
# settings every run of a policy lists; a row shows only what differs from the policy's defaults
DEFAULTS = {"sinks": "4", "heavy-hitter.recent-ratio": "0.1", "heavy-hitter.heavy-ratio": "0.1",
            "heavy-hitter.observation-window": "0", "mixed-precision.important-ratio": "0.1",
            "mixed-precision.low-bits": "4", "mixed-precision.group-size": "32", "mixed-precision.balance-keys": "true",
            "adaptive.recovery-threshold": "0.95", "adaptive.local-ratio": "0.3", "adaptive.frequency-ratio": "0.3",
            "adaptive.evicted": "drop", "span.length": "8", "span.entries": "1", "span.recent": "64",
            "kv-residual": "32"}


def shown(run, drop=ALLOCATION):
    s = run["settings"]
    parts = ["%s=%s" % kv for kv in s.items() if kv[0] not in drop and DEFAULTS.get(kv[0]) != kv[1]]
    return ", ".join(parts) or "defaults"


def kl(x):
    return "%.4f" % x if x == 0 or x >= 1e-3 else "%.1e" % x


def main(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    for run in runs:
        run["name"] = MODELS.get(run["model"], run["model"])
        run["allocation"] = next((run["settings"][k] for k in ALLOCATION if k in run["settings"]), None)
    print("## Per-head budgets and a second turn")
    print()
    print("Written by `scripts/kv-budget-report.sh` (`eval-kv --rereads`), which `kv-report` leaves in place. "
          "%d chunks of %d tokens per model, measured as the kv-type section above; every run also re-reads "
          "(see the second table)." % (runs[0]["chunks"], runs[0]["context"]))
    print()
    print("### Per-head budgets (Ada-KV)")
    print()
    print("`heavy-hitter.budget-allocation` and `mixed-precision.budget-allocation`: `uniform` keeps the same "
          "number of heavy hitters in every KV head; `adaptive` pools a layer's candidates and keeps the layer's "
          "top entries by accumulated attention, as many as the uniform heads keep together, so the bytes match "
          "(the memory ratio is the same for both). KL and top-1 against the full fp16 cache on fresh text "
          "(the chunk's second half) and on the second turn re-reading the first.")
    print()
    print("| model | policy | settings | memory ratio | KL uniform | KL adaptive | top-1 uniform | top-1 adaptive "
          "| re-read KL uniform | re-read KL adaptive |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    pairs = []
    for run in runs:
        if run["allocation"] != "uniform":
            continue
        twin = next((r for r in runs if r["allocation"] == "adaptive" and r["name"] == run["name"]
                     and r["policy"] == run["policy"] and shown(r) == shown(run)), None)
        if twin is None:
            continue
        pairs.append((run, twin))
        print("| %s | %s | %s | %.3f | %s | %s | %.3f | %.3f | %s | %s |" % (
            run["name"], run["policy"], shown(run), run["memory_ratio"], kl(run["mean_kl"]), kl(twin["mean_kl"]),
            run["top1_agreement"], twin["top1_agreement"], kl(run["reread_mean_kl"]), kl(twin["reread_mean_kl"])))
    print()
    for name in sorted({r["name"] for r, _ in pairs}, key=list(MODELS.values()).index):
        mine = [(u, a) for u, a in pairs if u["name"] == name]
        better = sum(1 for u, a in mine if a["mean_kl"] < u["mean_kl"])
        reread = sum(1 for u, a in mine if a["reread_mean_kl"] < u["reread_mean_kl"])
        ratio = [a["mean_kl"] / u["mean_kl"] for u, a in mine if u["mean_kl"] > 0]
        rratio = [a["reread_mean_kl"] / u["reread_mean_kl"] for u, a in mine if u["reread_mean_kl"] > 0]
        print("- %s: adaptive budgets lower the KL at %d of %d points (adaptive / uniform KL from %.2f to %.2f), "
              "the re-read KL at %d of %d (%.2f to %.2f)." % (
                  name, better, len(mine), min(ratio), max(ratio), reread, len(mine), min(rratio), max(rratio)))
    print()
    print("### A second turn about the first")
    print()
    print("Each chunk's first half is the first turn: prefilled in one batch and compacted before any of the "
          "second turn is seen, so no policy's scores know what will be asked. The second turn quotes the first "
          "turn's text from its start (the %d tokens after BOS), token by token, each prediction scored against "
          "the full cache: what the compacted first turn still holds of the text the second turn needs, which "
          "is what a query-aware eviction loses. These models recall no invented name (the recall columns "
          "above); the full cache's own perplexity on the re-read against fresh text shows how much they copy. "
          "Rows in order of memory." % (runs[0]["context"] // 2 - 1))
    print()
    print("| model | policy | settings | memory ratio | KL fresh | top-1 fresh | KL re-read | top-1 re-read "
          "| PPL re-read (full) | PPL fresh (full) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in MODELS.values():
        mine = sorted((r for r in runs if r["name"] == name), key=lambda r: (r["memory_ratio"], r["reread_mean_kl"]))
        for r in mine:
            print("| %s | %s | %s | %.3f | %s | %.3f | %s | %.3f | %.3f (%.3f) | %.3f (%.3f) |" % (
                r["name"], r["policy"], shown(r, ()), r["memory_ratio"], kl(r["mean_kl"]), r["top1_agreement"],
                kl(r["reread_mean_kl"]), r["reread_top1_agreement"], r["reread_perplexity"],
                r["full_reread_perplexity"], r["perplexity"], r["full_perplexity"]))

    print()
    print("### Defaults")
    print()
    best = {}
    for name in MODELS.values():
        mine = [r for r in runs if r["name"] == name and r["memory_ratio"] <= 0.3]
        fresh = min(mine, key=lambda r: r["mean_kl"])
        reread = min(mine, key=lambda r: r["reread_mean_kl"])
        best[name] = (fresh, reread)
        print("- %s, at most 30%% of the full cache's bytes: lowest KL %s (%s) at %.3f, KL %s; lowest re-read KL "
              "%s (%s) at %.3f, KL %s." % (name, fresh["policy"], shown(fresh, ()), fresh["memory_ratio"],
                                           kl(fresh["mean_kl"]), reread["policy"], shown(reread, ()),
                                           reread["memory_ratio"], kl(reread["reread_mean_kl"])))
    for name, (fresh, _) in best.items():
        for other in MODELS.values():
            twin = next((r for r in runs if r["name"] == other and other != name and r["policy"] == fresh["policy"]
                         and shown(r, ()) == shown(fresh, ())), None)
            if twin is not None:
                print("- %s's best, %s (%s), on %s: KL %s at %.3f." % (name, fresh["policy"], shown(fresh, ()), other,
                                                                      kl(twin["mean_kl"]), twin["memory_ratio"]))
    points = {(b[0]["policy"], shown(b[0], ())) for b in best.values()}
    if len(points) == 1:
        print("- One point is best on both models: %s (%s)." % next(iter(points)))
    else:
        ratios = [a["mean_kl"] / u["mean_kl"] for u, a in pairs if u["mean_kl"] > 0]
        ratios += [a["reread_mean_kl"] / u["reread_mean_kl"] for u, a in pairs if u["reread_mean_kl"] > 0]
        print("- No point measured is best per byte on both models, so the defaults of `kvcache.policy` stay "
              "(README \"KV-cache policies\"; a quantized kv-type as the default would also be a cache the CUDA "
              "backend refuses). Adaptive budgets stay off (`uniform`): at the same bytes they "
              "multiply the KL, fresh or re-read, by %.2f to %.2f, lower at some points and higher at others, "
              "with no gain on either model." % (min(ratios), max(ratios)))


if __name__ == "__main__":
    main(sys.argv[1])
