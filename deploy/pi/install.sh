#!/usr/bin/env bash
# Installs (or upgrades) the Saqshy gateway on a Raspberry Pi (Raspberry Pi OS / Debian).
#
#   sudo deploy/pi/install.sh [BINARY | BIN_DIR] [CENTRE_YAML]
#
# BINARY is a saqshy-gateway binary; BIN_DIR (default: bin/ of this repository, as
# `make build` or a release archive lays it out) holds linux-arm64/, linux-arm7/,
# linux-arm6/ and linux-amd64/, and the one for this Pi's CPU is taken.
# CENTRE_YAML becomes /etc/saqshy/centre.yaml unless one exists (then it is put
# next to it as centre.yaml.new); without it an example config is written once.
#
# Idempotent: run it again to upgrade; it says what it changed and keeps the
# config. SAQSHY_ROOT installs into another root directory (tests, images);
# SAQSHY_ARCH overrides `uname -m`.
set -euo pipefail

ROOT=${SAQSHY_ROOT:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
src=${1:-$repo/bin}
cfg=${2:-}

step() { printf '\n==> %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

# put SRC DEST MODE: install a file unless DEST already has the same content.
put() {
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		say "unchanged: ${2#"$ROOT"}"
	else
		install -D -m "$3" "$1" "$2"
		say "installed: ${2#"$ROOT"}"
	fi
}

if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
	die "run as root: sudo $0 $*"
fi

step "1/8 architecture"
arch=${SAQSHY_ARCH:-$(uname -m)}
case "$arch" in
	aarch64|arm64) dir=linux-arm64 ;;
	armv7l|armv7*) dir=linux-arm7 ;;
	armv6l|armv6*) dir=linux-arm6 ;;
	x86_64|amd64) dir=linux-amd64 ;;
	*) die "unsupported CPU $arch (known: aarch64, armv7l, armv6l, x86_64)" ;;
esac
if [ -d "$src" ]; then
	bin=$src/$dir/saqshy-gateway
	[ -f "$bin" ] || die "no $dir/saqshy-gateway in $src (make build, or download the release for $arch)"
else
	bin=$src
	[ -f "$bin" ] || die "no binary at $bin"
fi
say "$arch: using $bin"

step "2/8 packages: mosquitto (the broker), chrony (the Pi has no real-time clock)"
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto mosquitto-clients)
command -v chronyd >/dev/null 2>&1 || [ -x /usr/sbin/chronyd ] || missing+=(chrony)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
	say "already installed"
fi

step "3/8 user saqshy"
if getent passwd saqshy >/dev/null; then
	say "exists"
else
	useradd --system --home-dir /var/lib/saqshy --no-create-home --shell /usr/sbin/nologin saqshy
	say "created"
fi
for g in i2c gpio; do
	if getent group "$g" >/dev/null; then
		usermod -aG "$g" saqshy
		say "member of $g"
	else
		say "no group $g on this system (enable I2C/1-Wire first to use wired probes)"
	fi
done

step "4/8 directories"
install -d -m 0750 "$ROOT/etc/saqshy" "$ROOT/var/lib/saqshy" "$ROOT/var/lib/saqshy/spool"
chown saqshy:saqshy "$ROOT/var/lib/saqshy" "$ROOT/var/lib/saqshy/spool"
chgrp saqshy "$ROOT/etc/saqshy"
say "/etc/saqshy, /var/lib/saqshy/spool"

step "5/8 binary"
put "$bin" "$ROOT/usr/local/bin/saqshy-gateway" 0755
"$ROOT/usr/local/bin/saqshy-gateway" version | sed 's/^/    /'

step "6/8 config"
conf=$ROOT/etc/saqshy/centre.yaml
if [ -n "$cfg" ]; then
	if [ ! -f "$conf" ]; then
		install -m 0640 "$cfg" "$conf"
		say "installed ${conf#"$ROOT"} from $cfg"
	elif cmp -s "$cfg" "$conf"; then
		say "unchanged: ${conf#"$ROOT"}"
	else
		install -m 0640 "$cfg" "$conf.new"
		say "kept the existing ${conf#"$ROOT"}; yours is ${conf#"$ROOT"}.new (compare, then move it over)"
	fi
elif [ ! -f "$conf" ]; then
	"$ROOT/usr/local/bin/saqshy-gateway" example-config > "$conf"
	chmod 0640 "$conf"
	say "wrote an example ${conf#"$ROOT"}: describe the centre in it (saqshy-gateway discover helps)"
else
	say "kept the existing ${conf#"$ROOT"}"
fi
chgrp saqshy "$conf"
if "$ROOT/usr/local/bin/saqshy-gateway" check-config "$conf" | sed 's/^/    /'; then
	:
else
	say "the config has errors (above): fix them, then run this script again"
fi

step "7/8 mosquitto settings"
fw=$repo/firmware-config/mosquitto
if [ -d "$fw" ]; then
	put "$fw/saqshy.conf" "$ROOT/etc/mosquitto/conf.d/saqshy.conf" 0644
	if [ -f "$ROOT/etc/mosquitto/saqshy.acl" ]; then say "kept the existing /etc/mosquitto/saqshy.acl"; else put "$fw/saqshy.acl" "$ROOT/etc/mosquitto/saqshy.acl" 0644; fi
	[ -f "$ROOT/etc/mosquitto/saqshy.passwd" ] || { install -D -m 0600 /dev/null "$ROOT/etc/mosquitto/saqshy.passwd"; say "created an empty /etc/mosquitto/saqshy.passwd"; }
	say "add accounts with: sudo mosquitto_passwd /etc/mosquitto/saqshy.passwd saqshy"
else
	say "no firmware-config/mosquitto next to this script: left Mosquitto's settings alone"
fi

step "8/8 service"
put "$here/saqshy-gateway.service" "$ROOT/etc/systemd/system/saqshy-gateway.service" 0644
if [ -n "$ROOT" ]; then
	systemctl --root="$ROOT" enable saqshy-gateway.service
	say "enabled in $ROOT (not started: not the running system)"
else
	systemctl daemon-reload
	systemctl restart mosquitto
	systemctl enable saqshy-gateway.service
	systemctl restart saqshy-gateway.service
	systemctl --no-pager --lines=0 status saqshy-gateway.service || true
fi

printf '\ndone. Next:\n'
printf '  sudo -u saqshy saqshy-gateway doctor --config /etc/saqshy/centre.yaml   # checks everything, says what to fix\n'
printf '  journalctl -u saqshy-gateway -f                                        # the log\n'
