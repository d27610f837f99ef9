#!/usr/bin/env bash
# Runs each cargo-fuzz target for SECONDS (default 60), seeded from fixtures/.
#   scripts/fuzz.sh 600        # ten minutes per target
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Crashes land in
# fuzz/artifacts/TARGET/; copy each into tests/fuzz_regressions/ so that the test suite keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets=(reader validate render extract)
for target in "${targets[@]}"; do
  corpus="fuzz/corpus/$target"
  mkdir -p "$corpus"
  find fixtures -type f \( -name '*.json' -o -name '*.ndjson' -o -name '*.jsonl' -o -name '*.log' -o -name '*.gz' -o -name '*.zst' \) -exec cp {} "$corpus/" \;
  echo "== $target: ${seconds}s"
  cargo +nightly fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -max_len=65536 -timeout=10
done
