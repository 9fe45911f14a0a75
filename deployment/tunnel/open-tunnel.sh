#!/usr/bin/env bash
# Opens the SSH reverse tunnel of tunnel mode: the VPS's 127.0.0.1:PORT leads to this
# Mac's 127.0.0.1:PORT, where `mac-messages-mcp remote` listens. Runs in the foreground
# (exec ssh) so launchd supervises ssh itself and dials again when the link drops.
# Written for macOS's bash 3.2 as well as newer bash.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deployment/tunnel/open-tunnel.sh [options] USER@VPS

Options:
  --identity FILE    private key the VPS authorized (default ~/.ssh/mac-messages-mcp-tunnel)
  --port PORT        port of the MCP server on this Mac and of the tunnel end on the VPS (default 8000)
  --ssh-port PORT    SSH port of the VPS (default 22)
  --dry-run          print the ssh command instead of running it
  -h, --help         show this help

The first connection records the VPS host key in ~/.ssh/known_hosts (accept-new);
after that a changed host key is refused. Run it once in Terminal to see that it
connects before handing it to launchd.
EOF
}

die() {
  printf 'open-tunnel.sh: error: %s\n' "$1" >&2
  exit 2
}

valid_port() { [[ "$1" =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

IDENTITY="${HOME}/.ssh/mac-messages-mcp-tunnel"
PORT=8000
SSH_PORT=22
DRY_RUN=0
DESTINATION=""

while (($# > 0)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --identity)
      (($# >= 2)) || die "--identity needs a value"
      IDENTITY="$2"; shift ;;
    --port)
      (($# >= 2)) || die "--port needs a value"
      PORT="$2"; shift ;;
    --ssh-port)
      (($# >= 2)) || die "--ssh-port needs a value"
      SSH_PORT="$2"; shift ;;
    --dry-run) DRY_RUN=1 ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *)
      [[ -z "$DESTINATION" ]] || die "unexpected argument: $1"
      DESTINATION="$1" ;;
  esac
  shift
done

[[ -n "$DESTINATION" ]] || die "missing USER@VPS, e.g. tunnel@vps.example.com (see --help)"
[[ "$DESTINATION" =~ ^[a-z_][a-z0-9_-]*@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] ||
  die "USER@VPS must look like tunnel@vps.example.com, got '$DESTINATION'"
valid_port "$PORT" || die "--port must be a number from 1 to 65535, got '$PORT'"
valid_port "$SSH_PORT" || die "--ssh-port must be a number from 1 to 65535, got '$SSH_PORT'"
if ((!DRY_RUN)); then
  [[ -r "$IDENTITY" ]] ||
    die "private key not found: $IDENTITY (create it with deployment/install-launchagent.sh or ssh-keygen -t ed25519 -f $IDENTITY)"
  command -v ssh >/dev/null 2>&1 || die "ssh is not on PATH"
fi

COMMAND=(
  ssh -N -T
  -i "$IDENTITY"
  -p "$SSH_PORT"
  -o IdentitiesOnly=yes
  # No prompts under launchd: fail, exit, and let launchd retry.
  -o BatchMode=yes
  -o StrictHostKeyChecking=accept-new
  # Exit (so launchd restarts us) if the VPS port is taken instead of idling without a tunnel.
  -o ExitOnForwardFailure=yes
  # Notice a dead link within ~90 s (sleep, Wi-Fi change, VPS reboot).
  -o ServerAliveInterval=30
  -o ServerAliveCountMax=3
  -o ConnectTimeout=20
  # Both ends on loopback: only Caddy on the VPS can reach the tunnel.
  -R "127.0.0.1:${PORT}:127.0.0.1:${PORT}"
  "$DESTINATION"
)

if ((DRY_RUN)); then
  printf '[dry-run] would run:'
  printf ' %q' "${COMMAND[@]}"
  printf '\n'
  exit 0
fi
printf '%s opening tunnel: %s:127.0.0.1:%s -> this Mac 127.0.0.1:%s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$DESTINATION" "$PORT" "$PORT" >&2
exec "${COMMAND[@]}"
