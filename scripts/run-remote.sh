#!/usr/bin/env bash
# Quick start for remote mode on the Mac: checks Node, builds when the build is
# missing or stale, checks the owner password is set, then runs
# `mac-messages-mcp remote` in the foreground (launchd or a terminal supervises it).
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly ENTRY="dist/src/cli/main.js"
readonly MIN_NODE_MAJOR=20
readonly MIN_NODE_MINOR=10

usage() {
  cat <<'EOF'
Usage: scripts/run-remote.sh [options] SERVER_URL [-- extra arguments for `remote`]

Starts the MCP server in remote mode (HTTP + OAuth 2.1) for clients that reach it
through Caddy at SERVER_URL, the public https:// address, e.g. https://mcp.example.com

Options:
  --host HOST   address to listen on (default 127.0.0.1: tunnel mode, where the SSH tunnel
                ends on this Mac; use 0.0.0.0 for direct mode with router port forwarding)
  --port PORT   port to listen on (default 8000)
  --trust-proxy ADDRESSES
                comma-separated address(es) or CIDR range(s) of the proxy in front (the VPS),
                whose X-Forwarded-For then names the real client. Needed in direct and WireGuard
                mode, where Caddy's requests arrive from the VPS's address: without it every
                client shares that address and one set of rate limits. Not needed in tunnel mode
                (the tunnel ends on loopback, which is always trusted).
  --no-build    never run npm ci / npm run build, even when the build looks stale
  --dry-run     check everything and print the command instead of running it
  -h, --help    show this help

The owner password (asked on the consent page before any client is approved) must be set first:
  node dist/src/cli/main.js auth set-password
State (tokens, password hash) lives in ~/.mac-messages-mcp, or $MAC_MESSAGES_MCP_HOME when set.
EOF
}

die() {
  printf 'run-remote.sh: error: %s\n' "$1" >&2
  if [[ "${2:-}" == "usage" ]]; then
    printf "Run 'scripts/run-remote.sh --help' for usage.\n" >&2
  fi
  exit 2
}

say() { printf '==> %s\n' "$*" >&2; }

HOST="127.0.0.1"
PORT="8000"
BUILD=1
DRY_RUN=0
TRUST_PROXY=""
SERVER_URL=""
EXTRA_ARGS=()

while (($# > 0)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --host)
      (($# >= 2)) || die "--host needs a value" usage
      HOST="$2"; shift ;;
    --port)
      (($# >= 2)) || die "--port needs a value" usage
      PORT="$2"; shift ;;
    --trust-proxy)
      (($# >= 2)) || die "--trust-proxy needs a value, e.g. --trust-proxy 203.0.113.7" usage
      TRUST_PROXY="$2"; shift ;;
    --no-build) BUILD=0 ;;
    --dry-run) DRY_RUN=1 ;;
    --) shift; EXTRA_ARGS=("$@"); break ;;
    -*) die "unknown option: $1" usage ;;
    *)
      [[ -z "$SERVER_URL" ]] || die "unexpected argument: $1 (SERVER_URL is already $SERVER_URL)" usage
      SERVER_URL="$1" ;;
  esac
  shift
done

[[ -n "$SERVER_URL" ]] || die "missing SERVER_URL, the public https:// address clients use (e.g. https://mcp.example.com)" usage
if ! [[ "$SERVER_URL" =~ ^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$ ]]; then
  die "SERVER_URL must be the public https:// origin Caddy serves, like https://mcp.example.com, got '$SERVER_URL'"
fi
SERVER_URL="${SERVER_URL%/}"
if ! [[ "$PORT" =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
  die "--port must be a number from 1 to 65535, got '$PORT'"
fi
[[ "$HOST" =~ ^[A-Za-z0-9.:-]+$ ]] || die "--host must be an IP address or host name, got '$HOST'"
# The server checks each entry precisely; this only keeps words and placeholders out of the command line.
if [[ -n "$TRUST_PROXY" ]] && ! [[ "$TRUST_PROXY" =~ ^[0-9A-Fa-f.:/]+(,[0-9A-Fa-f.:/]+)*$ ]]; then
  die "--trust-proxy must be the proxy's IP address(es) or CIDR range(s), comma-separated (like 203.0.113.7 or 10.8.0.0/24), got '$TRUST_PROXY'"
fi

# ---------------------------------------------------------------- Node

command -v node >/dev/null 2>&1 ||
  die "Node.js ${MIN_NODE_MAJOR}.${MIN_NODE_MINOR} or newer is required but 'node' is not on PATH (install it with 'brew install node')"
NODE_VERSION="$(node -p 'process.versions.node')"
IFS=. read -r node_major node_minor _ <<<"$NODE_VERSION"
if ((node_major < MIN_NODE_MAJOR || (node_major == MIN_NODE_MAJOR && node_minor < MIN_NODE_MINOR))); then
  die "Node.js ${MIN_NODE_MAJOR}.${MIN_NODE_MINOR} or newer is required, found ${NODE_VERSION} ($(command -v node))"
fi

cd "$REPO_DIR"

# ---------------------------------------------------------------- build

build_reason() {
  if [[ ! -f "$ENTRY" ]]; then
    echo "$ENTRY is missing"
  # An installed package has no TypeScript sources (only src/demo/schema): nothing to rebuild there.
  elif [[ -d src && -n "$(find src -name '*.ts' -newer "$ENTRY" -print -quit)" ]]; then
    echo "src/ has changed since the last build"
  fi
}

reason="$(build_reason)"
if [[ -n "$reason" ]]; then
  if ((!BUILD)); then
    die "$reason, and --no-build was given; run 'npm run build' first"
  fi
  command -v npm >/dev/null 2>&1 || die "$reason, and npm is not on PATH to build it"
  if ((DRY_RUN)); then
    if [[ ! -d node_modules ]]; then say "[dry-run] would run: npm ci ($reason)"; fi
    say "[dry-run] would run: npm run build ($reason)"
  else
    if [[ ! -d node_modules ]]; then
      say "installing dependencies (npm ci)"
      npm ci
    fi
    say "building ($reason)"
    npm run build
  fi
fi

# ---------------------------------------------------------------- owner password

STATE_DIR="${MAC_MESSAGES_MCP_HOME:-$HOME/.mac-messages-mcp}"
STATE_DIR="${STATE_DIR/#\~/$HOME}"
if [[ ! -s "$STATE_DIR/owner_password.json" ]]; then
  die "no owner password is set ($STATE_DIR/owner_password.json is missing).
The consent page asks for it before approving any client. Set it first with:
  node $REPO_DIR/$ENTRY auth set-password"
fi

# ---------------------------------------------------------------- run

COMMAND=(node "$ENTRY" remote --server-url "$SERVER_URL" --host "$HOST" --port "$PORT")
if [[ -n "$TRUST_PROXY" ]]; then COMMAND+=(--trust-proxy "$TRUST_PROXY"); fi
COMMAND+=(${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"})
if [[ "$HOST" != "127.0.0.1" && "$HOST" != "localhost" && "$HOST" != "::1" ]]; then
  say "listening on $HOST:$PORT: reachable from your network, plain HTTP; only Caddy should reach it"
  if [[ -z "$TRUST_PROXY" ]]; then
    say "no --trust-proxy: requests through Caddy all count as the VPS's address (one set of limits for everyone); pass --trust-proxy VPS_ADDRESS"
  fi
fi
if ((DRY_RUN)); then
  printf '[dry-run] would run in %s:' "$REPO_DIR"
  printf ' %q' "${COMMAND[@]}"
  printf '\n'
  exit 0
fi
say "serving $SERVER_URL from http://$HOST:$PORT (Ctrl-C to stop)"
exec "${COMMAND[@]}"
