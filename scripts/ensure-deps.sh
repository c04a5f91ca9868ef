#!/usr/bin/env bash
# Installs what a fresh machine lacks, then builds, saying what it does and
# how long that usually takes:
#   - Debian packages every run needs: ffmpeg (with ffprobe), mkvtoolnix,
#     util-linux (setpriv: encodes die with their worker);
#   - with --for-tests (npm test, the benchmarks): also redis-server, started
#     on 127.0.0.1:6379 when nothing answers there (only the tests use Redis),
#     and handbrake-cli (HandBrakeCLI, for the handbrake module's tests),
#     and chromium (/usr/bin/chromium: the dashboard's browser tests drive it
#     headless through playwright-core; SIS_CHROMIUM points them elsewhere);
#   - the npm dependencies, only when package-lock.json changed since the last
#     install;
#   - the build.
#
#   bash scripts/ensure-deps.sh [--for-tests]
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=false
for arg in "$@"; do
  case "$arg" in
    --for-tests) for_tests=true ;;
    *) echo "ensure-deps: unknown option $arg (usage: ensure-deps.sh [--for-tests])" >&2; exit 2 ;;
  esac
done

# `step "what (how long it usually takes)"` ... `done_step`: one line before, the time it took after.
step_started=0
step() {
  step_started=$SECONDS
  echo "==> $1" >&2
}
done_step() {
  echo "    done in $((SECONDS - step_started)) s" >&2
}

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v mkvmerge >/dev/null 2>&1 || missing+=(mkvtoolnix)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
if $for_tests; then
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v HandBrakeCLI >/dev/null 2>&1 || missing+=(handbrake-cli)
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  step "installing Debian packages: ${missing[*]} (first time: about 1 min)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  done_step
fi

# The dashboard's end-to-end tests (test/dashboard) run Debian's chromium headless (with a
# font, so that their screenshots show text).
if $for_tests && [ ! -x /usr/bin/chromium ] && [ -z "${SIS_CHROMIUM:-}" ]; then
  step "installing Debian's chromium (and a font) for the dashboard's browser tests (first time: about 1-2 min, ~300 MB)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  done_step
fi

# Tests of the Redis store talk to a Redis on 127.0.0.1:6379 (keys under a fresh prefix each).
if $for_tests && ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  step "starting redis-server on 127.0.0.1:6379 for the tests (about 1 s)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  done_step
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm dependencies (first time: about 1-3 min, compiles better-sqlite3)"
  npm ci --no-audit --no-fund --loglevel=error
  done_step
fi

step "building (first time: about 40 s; a few seconds after)"
npm run build --silent
done_step
