#!/usr/bin/env bash
# Installs the launchd agents of remote mode on the Mac: fills the placeholders of
# deployment/imac-launchagent.plist (and, in tunnel mode, imac-tunnel-launchagent.plist),
# checks the result, copies it to ~/Library/LaunchAgents and (re)loads it.
# Re-running replaces the agents in place. Written for macOS's bash 3.2 as well as newer bash.
set -euo pipefail
# bash 5.2 would expand '&' in ${var//pattern/replacement}; keep replacements literal.
shopt -u patsub_replacement 2>/dev/null || true

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
readonly SCRIPT_DIR REPO_DIR
readonly SERVER_LABEL="com.macmessagesmcp.remote"
readonly TUNNEL_LABEL="com.macmessagesmcp.tunnel"
readonly ENTRY="dist/src/cli/main.js"

usage() {
  cat <<'EOF'
Usage:
  deployment/install-launchagent.sh --server-url URL --tunnel USER@VPS [options]   tunnel mode (recommended)
  deployment/install-launchagent.sh --server-url URL --direct [options]           direct mode (port forwarding)
  deployment/install-launchagent.sh --uninstall [--dry-run]

Installs a launchd agent that runs `mac-messages-mcp remote` at login and keeps it running
(logs: /tmp/mac-messages-mcp-remote.stdout.log and .stderr.log). In tunnel mode a second
agent keeps an SSH reverse tunnel to the VPS open, and the server listens on 127.0.0.1 only.

Options:
  --server-url URL   the public https:// address Caddy serves, e.g. https://mcp.example.com
  --tunnel USER@VPS  tunnel mode: the account setup-vps.sh --tunnel created, e.g. tunnel@vps.example.com
  --direct           direct mode: the server listens on 0.0.0.0 for your router's port forward
  --port PORT        server port (default 8000); in tunnel mode also the VPS end of the tunnel
  --host HOST        override the listen address (default 127.0.0.1 in tunnel mode, 0.0.0.0 in direct mode)
  --trust-proxy ADDRESSES
                     comma-separated address(es) or CIDR range(s) of the VPS, whose X-Forwarded-For then
                     names the real client (passed to `remote --trust-proxy`). Needed in direct and
                     WireGuard mode, where Caddy's requests arrive from the VPS's address; without it every
                     client shares that address and one set of rate limits. Tunnel mode needs none.
  --identity FILE    tunnel key (default ~/.ssh/mac-messages-mcp-tunnel; created if missing)
  --ssh-port PORT    SSH port of the VPS (default 22)
  --dry-run          print the filled-in plists and the commands; change nothing
  --uninstall        unload and remove both agents
  -h, --help         show this help
EOF
}

die() {
  printf 'install-launchagent.sh: error: %s\n' "$1" >&2
  if [[ "${2:-}" == "usage" ]]; then
    printf "Run 'deployment/install-launchagent.sh --help' for usage.\n" >&2
  fi
  exit 2
}

say() { printf '==> %s\n' "$*"; }

valid_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

SERVER_URL=""
TUNNEL_DESTINATION=""
DIRECT=0
PORT=8000
HOST=""
TRUST_PROXY=""
IDENTITY="${HOME}/.ssh/mac-messages-mcp-tunnel"
SSH_PORT=22
DRY_RUN=0
UNINSTALL=0

while (($# > 0)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --server-url)
      (($# >= 2)) || die "--server-url needs a value" usage
      SERVER_URL="$2"; shift ;;
    --tunnel)
      (($# >= 2)) || die "--tunnel needs USER@VPS, e.g. tunnel@vps.example.com" usage
      TUNNEL_DESTINATION="$2"; shift ;;
    --direct) DIRECT=1 ;;
    --port)
      (($# >= 2)) || die "--port needs a value" usage
      PORT="$2"; shift ;;
    --host)
      (($# >= 2)) || die "--host needs a value" usage
      HOST="$2"; shift ;;
    --trust-proxy)
      (($# >= 2)) || die "--trust-proxy needs a value, e.g. --trust-proxy 203.0.113.7" usage
      TRUST_PROXY="$2"; shift ;;
    --identity)
      (($# >= 2)) || die "--identity needs a value" usage
      IDENTITY="$2"; shift ;;
    --ssh-port)
      (($# >= 2)) || die "--ssh-port needs a value" usage
      SSH_PORT="$2"; shift ;;
    --dry-run) DRY_RUN=1 ;;
    --uninstall) UNINSTALL=1 ;;
    *) die "unknown argument: $1" usage ;;
  esac
  shift
done

LAUNCH_AGENTS="${HOME}/Library/LaunchAgents"
SERVER_PLIST="${LAUNCH_AGENTS}/${SERVER_LABEL}.plist"
TUNNEL_PLIST="${LAUNCH_AGENTS}/${TUNNEL_LABEL}.plist"
GUI_DOMAIN="gui/$(id -u)"

run() {
  if ((DRY_RUN)); then
    printf '[dry-run] would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Stops a loaded agent; not being loaded is fine.
unload_agent() {
  local label="$1" plist="$2"
  if ((DRY_RUN)); then
    run launchctl bootout "${GUI_DOMAIN}/${label}"
    return 0
  fi
  if launchctl print "${GUI_DOMAIN}/${label}" >/dev/null 2>&1; then
    launchctl bootout "${GUI_DOMAIN}/${label}" 2>/dev/null || launchctl unload "$plist" 2>/dev/null || true
  fi
}

load_agent() {
  local plist="$1"
  if ((DRY_RUN)); then
    run launchctl bootstrap "$GUI_DOMAIN" "$plist"
    return 0
  fi
  # `bootstrap` is the current interface; `load` covers older macOS releases.
  launchctl bootstrap "$GUI_DOMAIN" "$plist" 2>/dev/null || launchctl load -w "$plist"
}

if ((UNINSTALL)); then
  for label in "$SERVER_LABEL" "$TUNNEL_LABEL"; do
    plist="${LAUNCH_AGENTS}/${label}.plist"
    unload_agent "$label" "$plist"
    if [[ -f "$plist" ]] || ((DRY_RUN)); then run rm -f "$plist"; fi
  done
  if ((DRY_RUN)); then
    say "dry run complete: nothing was changed"
  else
    say "agents removed (state in ~/.mac-messages-mcp is kept; 'mac-messages-mcp auth reset' clears OAuth state)"
  fi
  exit 0
fi

# ---------------------------------------------------------------- validation

[[ -n "$SERVER_URL" ]] || die "missing --server-url, the public https:// address (e.g. https://mcp.example.com)" usage
if ! [[ "$SERVER_URL" =~ ^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$ ]]; then
  die "--server-url must be the public https:// origin Caddy serves, like https://mcp.example.com, got '$SERVER_URL'"
fi
SERVER_URL="${SERVER_URL%/}"
if [[ -n "$TUNNEL_DESTINATION" ]] && ((DIRECT)); then die "choose one of --tunnel and --direct, not both" usage; fi
if [[ -z "$TUNNEL_DESTINATION" ]] && ((!DIRECT)); then
  die "choose a mode: --tunnel USER@VPS (recommended: the Mac dials out, nothing exposed) or --direct (router port forwarding, listens on 0.0.0.0)" usage
fi
if [[ -n "$TUNNEL_DESTINATION" ]] &&
  ! [[ "$TUNNEL_DESTINATION" =~ ^[a-z_][a-z0-9_-]*@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
  die "--tunnel must look like tunnel@vps.example.com, got '$TUNNEL_DESTINATION'"
fi
valid_port "$PORT" || die "--port must be a number from 1 to 65535, got '$PORT'"
valid_port "$SSH_PORT" || die "--ssh-port must be a number from 1 to 65535, got '$SSH_PORT'"
if [[ -z "$HOST" ]]; then
  if ((DIRECT)); then HOST="0.0.0.0"; else HOST="127.0.0.1"; fi
fi
[[ "$HOST" =~ ^[A-Za-z0-9.:-]+$ ]] || die "--host must be an IP address or host name, got '$HOST'"
# The server checks each entry precisely when it starts; this keeps words and placeholders out of the plist.
if [[ -n "$TRUST_PROXY" ]] && ! [[ "$TRUST_PROXY" =~ ^[0-9A-Fa-f.:/]+(,[0-9A-Fa-f.:/]+)*$ ]]; then
  die "--trust-proxy must be the VPS's IP address(es) or CIDR range(s), comma-separated (like 203.0.113.7 or 10.8.0.0/24), got '$TRUST_PROXY'"
fi
[[ "$IDENTITY" == /* ]] || IDENTITY="$(pwd)/$IDENTITY"

# Problems that would make the agent crash-loop: fatal for real, reported in a dry run.
problem() {
  if ((DRY_RUN)); then
    printf '[dry-run] warning: %s\n' "$1"
  else
    die "$1"
  fi
}

NODE_BIN="$(command -v node 2>/dev/null || true)"
if [[ -z "$NODE_BIN" ]]; then
  problem "node is not on PATH; install Node.js 20.10 or newer (brew install node)"
  NODE_DIR="/opt/homebrew/bin"
else
  NODE_DIR="$(dirname "$NODE_BIN")"
  if ! "$NODE_BIN" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 10) ? 0 : 1)'; then
    problem "Node.js 20.10 or newer is required, found $("$NODE_BIN" --version) at $NODE_BIN"
  fi
fi
# launchd's default PATH is /usr/bin:/bin:/usr/sbin:/sbin; add node's directory and Homebrew's.
AGENT_PATH="$NODE_DIR"
for dir in /opt/homebrew/bin /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do
  case ":$AGENT_PATH:" in *":$dir:"*) ;; *) AGENT_PATH="$AGENT_PATH:$dir" ;; esac
done

[[ -f "$REPO_DIR/$ENTRY" ]] || problem "$REPO_DIR/$ENTRY is missing; run 'npm ci && npm run build' in $REPO_DIR first"
STATE_DIR="${MAC_MESSAGES_MCP_HOME:-$HOME/.mac-messages-mcp}"
[[ -s "$STATE_DIR/owner_password.json" ]] ||
  problem "no owner password is set; run 'node $ENTRY auth set-password' in $REPO_DIR first"

# ---------------------------------------------------------------- rendering

xml_escape() {
  local value="$1"
  value="${value//&/&amp;}"
  value="${value//</&lt;}"
  value="${value//>/&gt;}"
  printf '%s' "$value"
}

# render TEMPLATE NAME=VALUE... : prints TEMPLATE with each <string>__NAME__</string> value
# replaced by the XML-escaped VALUE (the explanatory comment keeps its placeholder names).
render() {
  local template="$1" content pair name value
  shift
  content="$(cat "$template")"
  for pair in "$@"; do
    name="${pair%%=*}"
    value="$(xml_escape "${pair#*=}")"
    content="${content//<string>__${name}__<\/string>/<string>${value}</string>}"
  done
  if [[ "$content" =~ \<string\>__[A-Z_]+__\</string\> ]]; then
    die "internal error: placeholder ${BASH_REMATCH[0]} left unfilled in $template"
  fi
  printf '%s\n' "$content"
}

# Checks a rendered plist with plutil (macOS) or Python's plistlib, whichever exists.
lint_plist() {
  local file="$1"
  if command -v plutil >/dev/null 2>&1; then
    plutil -lint -s "$file" || die "generated plist is not valid: $file"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import plistlib, sys; plistlib.load(open(sys.argv[1], "rb"))' "$file" ||
      die "generated plist is not valid: $file"
  fi
}

# Installs rendered content as DEST (0644), or prints it in a dry run.
install_plist() {
  local dest="$1" content="$2" tmp
  tmp="$(mktemp "${TMPDIR:-/tmp}/mac-messages-mcp-plist.XXXXXX")"
  printf '%s\n' "$content" >"$tmp"
  lint_plist "$tmp"
  if ((DRY_RUN)); then
    rm -f "$tmp"
    printf '[dry-run] would write %s:\n%s\n[dry-run] end of %s\n' "$dest" "$content" "$dest"
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$dest"
  say "wrote $dest"
}

SERVER_CONTENT="$(render "$SCRIPT_DIR/imac-launchagent.plist" \
  "SERVER_URL=$SERVER_URL" "WORKING_DIRECTORY=$REPO_DIR" "HOST=$HOST" "PORT=$PORT" "PATH=$AGENT_PATH")"
# --trust-proxy is appended to ProgramArguments (the plist's only array) when given, so the template stays
# the guide's plain command. Prefix/suffix removal, not ${var/…/…}: bash 3.2 and 5.2 differ on replacements.
if [[ -n "$TRUST_PROXY" ]]; then
  arguments="${SERVER_CONTENT%%</array>*}"
  rest="${SERVER_CONTENT#*</array>}"
  SERVER_CONTENT="${arguments}	<string>--trust-proxy</string>
		<string>$(xml_escape "$TRUST_PROXY")</string>
	</array>${rest}"
fi

if [[ -n "$TUNNEL_DESTINATION" ]]; then
  if [[ ! -f "$IDENTITY" ]]; then
    say "creating the tunnel key $IDENTITY"
    run mkdir -p "$(dirname "$IDENTITY")"
    run ssh-keygen -q -t ed25519 -N "" -C "mac-messages-mcp-tunnel@$(hostname -s 2>/dev/null || echo mac)" -f "$IDENTITY"
  fi
  TUNNEL_CONTENT="$(render "$SCRIPT_DIR/imac-tunnel-launchagent.plist" \
    "WORKING_DIRECTORY=$REPO_DIR" "IDENTITY_FILE=$IDENTITY" "PORT=$PORT" "DESTINATION=$TUNNEL_DESTINATION")"
  # open-tunnel.sh takes --ssh-port; add it only when not the default so the plist stays simple.
  if [[ "$SSH_PORT" != "22" ]]; then
    TUNNEL_CONTENT="${TUNNEL_CONTENT/<string>--port<\/string>/<string>--ssh-port</string>
		<string>${SSH_PORT}</string>
		<string>--port</string>}"
  fi
fi

# ---------------------------------------------------------------- install

unload_agent "$SERVER_LABEL" "$SERVER_PLIST"
install_plist "$SERVER_PLIST" "$SERVER_CONTENT"
load_agent "$SERVER_PLIST"

if [[ -n "$TUNNEL_DESTINATION" ]]; then
  unload_agent "$TUNNEL_LABEL" "$TUNNEL_PLIST"
  install_plist "$TUNNEL_PLIST" "$TUNNEL_CONTENT"
  load_agent "$TUNNEL_PLIST"
elif [[ -f "$TUNNEL_PLIST" ]]; then
  # Switching from tunnel to direct mode: the old tunnel agent would only fail to bind.
  unload_agent "$TUNNEL_LABEL" "$TUNNEL_PLIST"
  run rm -f "$TUNNEL_PLIST"
fi

# ---------------------------------------------------------------- next steps

echo
if ((DRY_RUN)); then say "dry run complete: nothing was changed"; else say "agents loaded"; fi
cat <<EOF
Check the server:   curl -fsS http://127.0.0.1:${PORT}/health
Server logs:        tail -f /tmp/mac-messages-mcp-remote.stderr.log
EOF
if [[ -z "$TUNNEL_DESTINATION" && -z "$TRUST_PROXY" ]]; then
  cat <<EOF
Note: without --trust-proxy VPS_ADDRESS, every request through Caddy counts as the VPS's address, so all
clients share one set of rate limits (a few wrong passwords or junk /token calls slow everyone down).
Re-run with --trust-proxy and the address the VPS reaches this Mac from (its WireGuard address in WireGuard mode).
EOF
fi
if [[ -n "$TUNNEL_DESTINATION" ]]; then
  vps_host="${TUNNEL_DESTINATION#*@}"
  tunnel_user="${TUNNEL_DESTINATION%@*}"
  domain="${SERVER_URL#https://}"
  domain="${domain%%:*}"
  cat <<EOF
Tunnel logs:        tail -f /tmp/mac-messages-mcp-tunnel.stderr.log
Authorize this Mac's tunnel key on the VPS (once; re-running is harmless):
  sudo ./deployment/setup-vps.sh --tunnel --tunnel-user ${tunnel_user} --tunnel-key "$(cat "${IDENTITY}.pub" 2>/dev/null || echo "<contents of ${IDENTITY}.pub>")" ${domain} ${PORT}
  (run on ${vps_host})
EOF
fi
cat <<EOF
Then from anywhere: curl -fsS ${SERVER_URL}/health
EOF
