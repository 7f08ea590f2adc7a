#!/usr/bin/env bash
# Builds kvcache and regenerates docs/kv-quality.md and docs/kv-quality.png: every KV-cache policy
# at several budgets on the two tiny TinyStories models in ../shared, against the full cache, then
# the quality guardrail's section (scripts/kv-guardrail-report.sh).
# Takes a few minutes on two cores; extra arguments go to kv-report (e.g. --chunks 4 for a quick look).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./mvnw -q install -DskipTests
bin/kvcache kv-report --out docs "$@"
scripts/kv-guardrail-report.sh
