#!/usr/bin/env bash
# Installs what a fresh machine lacks, then builds: system packages the tests
# and examples use (ffmpeg, mkvtoolnix), the npm dependencies (only when
# package-lock.json changed since the last install), and the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v mkvmerge >/dev/null 2>&1 || missing+=(mkvtoolnix)
if ((${#missing[@]})); then
  echo "ensure-deps: installing ${missing[*]} (Debian packages)" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

npx tsc -b
node scripts/bundle-vendor.mjs
