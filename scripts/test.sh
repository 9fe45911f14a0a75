#!/usr/bin/env bash
# The one test command (README, and CI through .ci/run): installs what the tests need, then runs them.
#  - Debian packages for the browser, proxy and script tests (chromium, caddy, shellcheck, sqlite3,
#    openssh-client, python3) when
#    missing and apt-get is available; elsewhere it says what to install.
#  - npm dependencies with `npm ci` on CI or when node_modules is missing, then the pinned real clients.
#  - then `npm test`: Biome, TypeScript, and the node:test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# command → Debian package that provides it
missing=()
for pair in chromium:chromium caddy:caddy shellcheck:shellcheck sqlite3:sqlite3 ssh-keygen:openssh-client python3:python3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing Debian packages for the tests: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: ${missing[*]} not found; the browser/Caddy/shell-script tests need them." >&2
    echo "         (macOS: brew install chromium caddy shellcheck sqlite)" >&2
  fi
fi

if [ "${CI:-}" = "true" ] || [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund
fi

# Test-only real clients (Claude Code, MCP Inspector, conformance suite, Node 22), pinned in
# test/real-clients/pinned/ and cached outside the checkout; instant when already installed.
node --import tsx test/real-clients/install.ts

npm test
