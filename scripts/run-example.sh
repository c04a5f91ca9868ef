#!/usr/bin/env bash
# The README's main command: make a sample file (when missing) and run the
# example job locally through `sisyphus run`, with a third-party module
# (checksum, from examples/) and the shipped cleanup module.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

sample=.sisyphus-sample
mkdir -p "$sample/in" "$sample/done"
if [ ! -f "$sample/in/sample.bin" ]; then
  head -c $((64 * 1024 * 1024)) /dev/urandom > "$sample/in/sample.bin"
fi

exec node core/dist/cli/bin.js run \
  --config examples/sisyphus.config.yaml \
  examples/jobs/hello.yaml \
  --var "job_title=Hello from Sisyphus" \
  --var "source_file=$sample/in/sample.bin" \
  --var "done_dir=$sample/done" \
  "$@"
