#!/usr/bin/env bash
# The README's main command: install what is missing and build (see
# ensure-deps.sh; no Redis: only the tests use it), make a sample video (when
# missing) and run the seed's example job on it locally: ffmpeg (x265 + opus
# with the option sets in examples/data) -> mkvmerge (languages, names,
# default flags) -> cleanup (move the result to the done folder, delete the
# intermediate file). Each step says what it does and how long it usually takes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh

sample=.sisyphus-sample
mkdir -p "$sample/in" "$sample/work" "$sample/done"
if [ ! -f "$sample/in/source.mkv" ]; then
  started=$SECONDS
  echo "==> making the sample video $sample/in/source.mkv (about 2 s)" >&2
  node scripts/make-sample.mjs "$sample/in/source.mkv" --duration 3 --size 426x240
  echo "    done in $((SECONDS - started)) s" >&2
fi

echo "==> running the job: ffmpeg -> mkvmerge -> cleanup, result in $sample/done/dark-and-stormy.mkv (about 5 s)" >&2
exec node core/dist/cli/bin.js run \
  --config examples/seed.config.yaml \
  examples/jobs/seed-example.json \
  --var "job_title=It was a dark and stormy night" \
  --var "source_file=$PWD/$sample/in/source.mkv" \
  --var "video_title=Dark & Stormy" \
  --var "output_file=dark-and-stormy.mkv" \
  --var "done_dir=$PWD/$sample/done" \
  "$@"
