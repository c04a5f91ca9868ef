#!/usr/bin/env bash
# The README's main command: make a sample video (when missing) and run the
# seed's example job on it locally: ffmpeg (x265 + opus with server-side
# option sets) -> mkvmerge (languages, names, default flags) -> cleanup
# (move the result to the done folder, delete the intermediate file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

sample=.sisyphus-sample
mkdir -p "$sample/in" "$sample/work" "$sample/done"
if [ ! -f "$sample/in/source.mkv" ]; then
  node scripts/make-sample.mjs "$sample/in/source.mkv" --duration 3 --size 426x240
fi

exec node core/dist/cli/bin.js run \
  --config examples/seed.config.yaml \
  examples/jobs/seed-example.json \
  --var "job_title=It was a dark and stormy night" \
  --var "source_file=$PWD/$sample/in/source.mkv" \
  --var "video_title=Dark & Stormy" \
  --var "output_file=dark-and-stormy.mkv" \
  --var "done_dir=$PWD/$sample/done" \
  "$@"
