#!/usr/bin/env bash
# Prepares a Debian/Ubuntu VPS as the public HTTPS front of mac-messages-mcp:
# installs Caddy from its official apt repository, writes /etc/caddy/Caddyfile
# from deployment/Caddyfile.template, opens 80/443 in ufw, and (with --tunnel)
# creates a locked-down SSH user the Mac uses to dial in with a reverse tunnel.
# Safe to re-run: nothing is duplicated, unchanged files are left alone.
set -euo pipefail
# bash 5.2 would expand '&' in ${var//pattern/replacement}; keep replacements literal.
shopt -u patsub_replacement 2>/dev/null || true

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly TEMPLATE="${SCRIPT_DIR}/Caddyfile.template"
readonly CADDYFILE="/etc/caddy/Caddyfile"
readonly CADDY_KEYRING="/usr/share/keyrings/caddy-stable-archive-keyring.gpg"
readonly CADDY_SOURCES="/etc/apt/sources.list.d/caddy-stable.list"
readonly CADDY_REPO="https://dl.cloudsmith.io/public/caddy/stable"
readonly MANAGED_MARKER="# Rendered by deployment/setup-vps.sh"
readonly DEFAULT_UPSTREAM_PORT=8000

usage() {
  cat <<'EOF'
Usage:
  setup-vps.sh [options] DOMAIN UPSTREAM        direct mode: Caddy proxies to the Mac over the internet
  setup-vps.sh --tunnel [options] DOMAIN [PORT]  tunnel mode: the Mac dials in over SSH (recommended)

Run as root on a Debian or Ubuntu VPS whose DNS A/AAAA record for DOMAIN points at it.

Arguments:
  DOMAIN     public host name, e.g. mcp.example.com (no scheme, no port)
  UPSTREAM   where the MCP server is reachable from the VPS: HOST or HOST:PORT, e.g. 203.0.113.7,
             203.0.113.7:8000 or a dynamic-DNS name such as myhome.duckdns.org; a HOST alone means
             port 8000, the server's default (IPv6 as [ADDR] or [ADDR]:PORT)
  PORT       tunnel mode only: VPS loopback port the tunnel ends on (default 8000)

Options:
  --tunnel               set up tunnel mode: Caddy proxies to 127.0.0.1:PORT, and a restricted
                         SSH user (no shell, may only open that one reverse forward) is created
  --tunnel-user NAME     name of that SSH user (default: tunnel)
  --tunnel-key KEY       the Mac's SSH public key ("ssh-ed25519 AAAA... comment") to authorize
  --tunnel-key-file FILE read that public key from FILE
  --email ADDRESS        e-mail for Let's Encrypt expiry notices (optional)
  --dry-run              print what would be done; change nothing
  --print-caddyfile      print the rendered Caddyfile and exit (no root needed)
  -h, --help             show this help
EOF
}

die() {
  printf 'setup-vps.sh: error: %s\n' "$1" >&2
  if [[ "${2:-}" == "usage" ]]; then
    printf "Run 'setup-vps.sh --help' for usage.\n" >&2
  fi
  exit 2
}

say() { printf '==> %s\n' "$*"; }

DRY_RUN=0
PRINT_CADDYFILE=0
TUNNEL=0
TUNNEL_USER="tunnel"
TUNNEL_KEY=""
EMAIL=""
POSITIONAL=()

while (($# > 0)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --dry-run) DRY_RUN=1 ;;
    --print-caddyfile) PRINT_CADDYFILE=1 ;;
    --tunnel) TUNNEL=1 ;;
    --tunnel-user)
      (($# >= 2)) || die "--tunnel-user needs a value" usage
      TUNNEL_USER="$2"; shift ;;
    --tunnel-key)
      (($# >= 2)) || die "--tunnel-key needs a value" usage
      TUNNEL_KEY="$2"; shift ;;
    --tunnel-key-file)
      (($# >= 2)) || die "--tunnel-key-file needs a value" usage
      [[ -r "$2" ]] || die "cannot read public key file: $2"
      TUNNEL_KEY="$(head -n 1 "$2")"; shift ;;
    --email)
      (($# >= 2)) || die "--email needs a value" usage
      EMAIL="$2"; shift ;;
    --) shift; POSITIONAL+=("$@"); break ;;
    -*) die "unknown option: $1" usage ;;
    *) POSITIONAL+=("$1") ;;
  esac
  shift
done

# ---------------------------------------------------------------- validation

validate_domain() {
  local domain="$1"
  if [[ "$domain" == *://* ]]; then
    die "DOMAIN must be a bare host name without a scheme, e.g. ${domain#*://}"
  fi
  if [[ "$domain" == */* || "$domain" == *:* ]]; then
    die "DOMAIN must be a bare host name without a path or port: $domain"
  fi
  if [[ "$domain" =~ ^[0-9.]+$ ]]; then
    die "DOMAIN must be a host name, not an IP address (Let's Encrypt needs a DNS name): $domain"
  fi
  local label='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
  if ((${#domain} > 253)) || ! [[ "$domain" =~ ^(${label}\.)+[A-Za-z]{2,63}$ ]]; then
    die "DOMAIN is not a valid host name: '$domain' (expected something like mcp.example.com)"
  fi
}

validate_port() {
  local port="$1" what="$2"
  if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
    die "$what: port must be a number from 1 to 65535, got '$port'"
  fi
}

validate_upstream() {
  local upstream="$1" host port
  if [[ "$upstream" == *://* ]]; then
    die "UPSTREAM must be HOST or HOST:PORT without a scheme, e.g. ${upstream#*://}"
  fi
  if [[ "$upstream" =~ ^\[([0-9A-Fa-f:.]+)\]:([^:]*)$ ]]; then
    host="${BASH_REMATCH[1]}"; port="${BASH_REMATCH[2]}"
  elif [[ "$upstream" =~ ^([^:/]+):([^:]*)$ ]]; then
    host="${BASH_REMATCH[1]}"; port="${BASH_REMATCH[2]}"
  else
    die "UPSTREAM must be HOST or HOST:PORT (IPv6 as [ADDR]:PORT), got '$upstream'"
  fi
  if [[ "$host" == YOUR_* ]]; then
    die "replace $host with the Mac's real address (on the Mac: curl -4 ifconfig.me), or use --tunnel"
  fi
  validate_port "$port" "UPSTREAM"
  if [[ "$host" =~ ^[0-9.]+$ ]]; then
    local IFS=. octet
    local -a octets
    read -r -a octets <<<"$host"
    ((${#octets[@]} == 4)) || die "UPSTREAM host is not a valid IPv4 address: $host"
    for octet in "${octets[@]}"; do
      if ! [[ "$octet" =~ ^[0-9]{1,3}$ ]] || ((10#$octet > 255)); then
        die "UPSTREAM host is not a valid IPv4 address: $host"
      fi
    done
  elif [[ "$upstream" != \[* ]] &&
    ! [[ "$host" =~ ^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]]; then
    die "UPSTREAM host is not a valid host name or IP address: $host"
  fi
}

validate_email() {
  [[ "$1" =~ ^[^[:space:]@]+@[^[:space:]@]+\.[^[:space:]@]+$ ]] || die "--email is not an e-mail address: $1"
}

validate_tunnel_user() {
  [[ "$1" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] ||
    die "--tunnel-user must be a lower-case Unix user name (letters, digits, _ and -), got '$1'"
  [[ "$1" != "root" ]] || die "--tunnel-user must not be root"
}

# Prints "TYPE BASE64 [COMMENT]" of a bare OpenSSH public key, or dies.
validate_public_key() {
  local key="$1"
  if ! [[ "$key" =~ ^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\ [A-Za-z0-9+/]+={0,3}(\ [^[:cntrl:]]*)?$ ]]; then
    die "the tunnel key must be one OpenSSH public key line like 'ssh-ed25519 AAAA... comment' (without options); got '${key:0:40}...'"
  fi
  if command -v ssh-keygen >/dev/null 2>&1; then
    ssh-keygen -l -f /dev/stdin <<<"$key" >/dev/null 2>&1 || die "ssh-keygen rejects the tunnel key as malformed"
  fi
}

((${#POSITIONAL[@]} >= 1)) || die "missing DOMAIN" usage
DOMAIN="${POSITIONAL[0]}"
validate_domain "$DOMAIN"

if ((TUNNEL)); then
  ((${#POSITIONAL[@]} <= 2)) || die "too many arguments" usage
  TUNNEL_PORT="${POSITIONAL[1]:-8000}"
  # Accept "127.0.0.1:8000" too, since that is what the tunnel ends on.
  TUNNEL_PORT="${TUNNEL_PORT#127.0.0.1:}"
  validate_port "$TUNNEL_PORT" "tunnel PORT"
  UPSTREAM="127.0.0.1:${TUNNEL_PORT}"
  validate_tunnel_user "$TUNNEL_USER"
  if [[ -n "$TUNNEL_KEY" ]]; then validate_public_key "$TUNNEL_KEY"; fi
else
  ((${#POSITIONAL[@]} == 2)) || die "expected DOMAIN and UPSTREAM (or use --tunnel)" usage
  [[ -z "$TUNNEL_KEY" ]] || die "--tunnel-key only makes sense with --tunnel" usage
  UPSTREAM="${POSITIONAL[1]}"
  # The original guide passes a bare address ("setup-vps.sh DOMAIN YOUR_IMAC_PUBLIC_IP") and forwards
  # port 8000, the server's default port: a host without a port means exactly that.
  if [[ "$UPSTREAM" =~ ^[^:/\[]+$ || "$UPSTREAM" =~ ^\[[0-9A-Fa-f:.]+\]$ ]]; then
    UPSTREAM="${UPSTREAM}:${DEFAULT_UPSTREAM_PORT}"
  fi
  validate_upstream "$UPSTREAM"
fi
if [[ -n "$EMAIL" ]]; then validate_email "$EMAIL"; fi

# ---------------------------------------------------------------- rendering

render_caddyfile() {
  [[ -r "$TEMPLATE" ]] || die "template not found next to this script: $TEMPLATE"
  local line in_header=1
  printf '%s from deployment/Caddyfile.template; re-run it instead of editing by hand.\n' "$MANAGED_MARKER"
  while IFS= read -r line || [[ -n "$line" ]]; do
    # The template's leading comment documents the placeholders; leave it out.
    if ((in_header)) && [[ "$line" == "#"* ]]; then continue; fi
    in_header=0
    if [[ "$line" == *"{{EMAIL}}"* && -z "$EMAIL" ]]; then continue; fi
    line="${line//\{\{DOMAIN\}\}/$DOMAIN}"
    line="${line//\{\{UPSTREAM\}\}/$UPSTREAM}"
    line="${line//\{\{EMAIL\}\}/$EMAIL}"
    printf '%s\n' "$line"
  done <"$TEMPLATE"
}

if ((PRINT_CADDYFILE)); then
  render_caddyfile
  exit 0
fi

# ---------------------------------------------------------------- actions

# Runs a command, or only shows it under --dry-run.
run() {
  if ((DRY_RUN)); then
    printf '[dry-run] would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# Writes stdin to PATH with MODE, only when the content differs.
install_content() {
  local path="$1" mode="$2" content
  content="$(cat)"
  if [[ -f "$path" ]] && [[ "$(cat "$path")" == "$content" ]]; then
    say "$path is already up to date"
    return 0
  fi
  if ((DRY_RUN)); then
    printf '[dry-run] would write %s (mode %s):\n' "$path" "$mode"
    printf '%s\n' "$content" | sed 's/^/    | /'
    return 0
  fi
  local tmp
  tmp="$(mktemp "${path}.XXXXXX")"
  printf '%s\n' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  say "wrote $path"
}

preflight() {
  if ((DRY_RUN)); then
    say "dry run: nothing on this machine will be changed"
    return 0
  fi
  ((EUID == 0)) || die "must run as root (try: sudo $0 ...)"
  if ! command -v apt-get >/dev/null 2>&1 || [[ ! -r /etc/debian_version ]]; then
    die "this script supports Debian and Ubuntu (apt-get not found)"
  fi
  command -v systemctl >/dev/null 2>&1 || die "systemd (systemctl) is required to run Caddy as a service"
}

install_caddy() {
  if command -v caddy >/dev/null 2>&1 && [[ -f "$CADDY_SOURCES" ]]; then
    say "Caddy is already installed from its apt repository ($(caddy version 2>/dev/null | head -n 1))"
    return 0
  fi
  say "Installing Caddy from its official apt repository"
  run apt-get update
  run apt-get install -y debian-keyring debian-archive-keyring apt-transport-https curl gnupg
  if [[ ! -s "$CADDY_KEYRING" ]]; then
    if ((DRY_RUN)); then
      printf '[dry-run] would run: curl -1sLf %q | gpg --dearmor -o %q\n' "$CADDY_REPO/gpg.key" "$CADDY_KEYRING"
    else
      curl -1sLf "$CADDY_REPO/gpg.key" | gpg --dearmor --yes -o "$CADDY_KEYRING"
      chmod o+r "$CADDY_KEYRING"
    fi
  fi
  if ((DRY_RUN)); then
    printf '[dry-run] would run: curl -1sLf %q > %q\n' "$CADDY_REPO/debian.deb.txt" "$CADDY_SOURCES"
  else
    curl -1sLf "$CADDY_REPO/debian.deb.txt" >"$CADDY_SOURCES"
    chmod o+r "$CADDY_SOURCES"
  fi
  run apt-get update
  run apt-get install -y caddy
}

write_caddyfile() {
  local rendered
  rendered="$(render_caddyfile)"
  if ((!DRY_RUN)); then
    # Validate before replacing a working configuration.
    local candidate
    candidate="$(mktemp /tmp/Caddyfile.XXXXXX)"
    printf '%s\n' "$rendered" >"$candidate"
    if ! caddy validate --config "$candidate" --adapter caddyfile >/dev/null 2>&1; then
      caddy validate --config "$candidate" --adapter caddyfile || true
      rm -f "$candidate"
      die "the rendered Caddyfile does not validate; $CADDYFILE was left unchanged"
    fi
    rm -f "$candidate"
    mkdir -p "$(dirname "$CADDYFILE")"
    if [[ -f "$CADDYFILE" ]] && ! grep -qF "$MANAGED_MARKER" "$CADDYFILE"; then
      local backup
      backup="${CADDYFILE}.before-mac-messages-mcp.$(date +%Y%m%d%H%M%S)"
      cp -p "$CADDYFILE" "$backup"
      say "kept your previous Caddyfile as $backup"
    fi
  fi
  printf '%s\n' "$rendered" | install_content "$CADDYFILE" 0644
}

open_firewall() {
  if ! command -v ufw >/dev/null 2>&1; then
    say "ufw not installed; make sure your provider's firewall allows TCP 80 and 443"
    return 0
  fi
  # ufw skips rules that already exist, so this is idempotent.
  run ufw allow 80/tcp
  run ufw allow 443/tcp
}

setup_tunnel_user() {
  local home="/var/lib/mac-messages-mcp-${TUNNEL_USER}"
  local nologin
  nologin="$(command -v nologin 2>/dev/null || echo /usr/sbin/nologin)"
  if id -u "$TUNNEL_USER" >/dev/null 2>&1; then
    say "user $TUNNEL_USER already exists"
    home="$(getent passwd "$TUNNEL_USER" | cut -d: -f6)"
  else
    say "Creating SSH tunnel user $TUNNEL_USER (no password, no shell)"
    # Password field "*": no password login, but not "locked" ("!"), which sshd would refuse
    # even for key logins when UsePAM is off.
    run useradd --system --create-home --home-dir "$home" --shell "$nologin" --password '*' \
      --comment "mac-messages-mcp reverse tunnel" "$TUNNEL_USER"
  fi
  run install -d -m 0700 -o "$TUNNEL_USER" -g "$TUNNEL_USER" "$home/.ssh"

  if [[ -z "$TUNNEL_KEY" ]]; then
    say "no --tunnel-key given: no key authorized yet (re-run with --tunnel-key when you have it)"
    return 0
  fi
  # restrict: no shell, pty, agent or X11; port-forwarding + permitlisten: the key may
  # only open the one reverse forward Caddy proxies to, bound to the VPS loopback.
  local entry
  entry="restrict,port-forwarding,permitlisten=\"127.0.0.1:${TUNNEL_PORT}\" ${TUNNEL_KEY}"
  local keys="$home/.ssh/authorized_keys" key_body
  key_body="$(awk '{print $2}' <<<"$TUNNEL_KEY")"
  if [[ -f "$keys" ]] && grep -qF -- "$key_body" "$keys"; then
    say "tunnel key is already authorized in $keys"
  elif ((DRY_RUN)); then
    printf '[dry-run] would append to %s (mode 0600, owner %s):\n    | %s\n' "$keys" "$TUNNEL_USER" "$entry"
  else
    printf '%s\n' "$entry" >>"$keys"
    chown "$TUNNEL_USER:$TUNNEL_USER" "$keys"
    chmod 0600 "$keys"
    say "authorized the tunnel key in $keys"
  fi

  if ((!DRY_RUN)) && command -v sshd >/dev/null 2>&1; then
    local forwarding
    forwarding="$(sshd -T -C "user=${TUNNEL_USER},host=localhost,addr=127.0.0.1" 2>/dev/null |
      awk '$1 == "allowtcpforwarding" {print $2}')"
    if [[ "$forwarding" == "no" || "$forwarding" == "local" ]]; then
      say "WARNING: sshd has AllowTcpForwarding $forwarding; the reverse tunnel needs 'remote' or 'yes' for $TUNNEL_USER"
    fi
  fi
}

enable_caddy() {
  run systemctl enable caddy
  if ((DRY_RUN)) || systemctl is-active --quiet caddy; then
    run systemctl reload caddy
  else
    run systemctl start caddy
  fi
}

print_next_steps() {
  local vps_host
  vps_host="$(hostname -f 2>/dev/null || hostname 2>/dev/null || echo YOUR_VPS)"
  if ((DRY_RUN)); then
    printf '\nDry run complete: nothing was changed. Without --dry-run, Caddy would serve https://%s and proxy to %s.\n' "$DOMAIN" "$UPSTREAM"
  else
    printf '\nDone. Caddy serves https://%s and proxies to %s.\n' "$DOMAIN" "$UPSTREAM"
  fi
  cat <<EOF

Next steps:
EOF
  if ((TUNNEL)); then
    cat <<EOF
  1. On the Mac, install the server and tunnel agents (prints the key to authorize if you have none yet):
       ./deployment/install-launchagent.sh --server-url https://${DOMAIN} --tunnel ${TUNNEL_USER}@${vps_host} --port ${TUNNEL_PORT}
  2. If you did not pass --tunnel-key, authorize the Mac's key here by re-running:
       sudo ./deployment/setup-vps.sh --tunnel --tunnel-key "\$(cat mac-messages-mcp-tunnel.pub)" ${DOMAIN} ${TUNNEL_PORT}
  3. Check from this VPS: curl -fsS http://${UPSTREAM}/health
EOF
  else
    cat <<EOF
  1. On the Mac, start the server reachable from this VPS, trusting this VPS's X-Forwarded-For (VPS_ADDRESS:
     the address this VPS reaches your Mac from, usually its public IP) so each client has its own limits:
       ./scripts/run-remote.sh --host 0.0.0.0 --port ${UPSTREAM##*:} --trust-proxy VPS_ADDRESS https://${DOMAIN}
  2. Forward TCP port ${UPSTREAM##*:} on your router to the Mac, then check from this VPS:
       curl -fsS http://${UPSTREAM}/health
  Consider tunnel mode (--tunnel) instead: no port forwarding and no plain HTTP on the internet.
EOF
  fi
  cat <<EOF
  Then: curl -fsS https://${DOMAIN}/health   and add https://${DOMAIN}/mcp to your MCP client.
  Caddy logs: journalctl -u caddy -f
EOF
}

preflight
install_caddy
write_caddyfile
open_firewall
if ((TUNNEL)); then setup_tunnel_user; fi
enable_caddy
print_next_steps
