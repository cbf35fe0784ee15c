#!/usr/bin/env bash
# Tests install.sh against a temporary root directory with fake system commands
# (apt-get, useradd, usermod, getent, chown, chgrp, systemctl) on PATH, twice (it
# must be idempotent and keep the config), then checks the installed unit with
# `systemd-analyze verify --root`. Run by `make deploy-test` (part of make test).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
want() { grep -qF -- "$2" "$1" || { printf -- '--- %s\n' "$1" >&2; cat "$1" >&2; fail "$1 lacks: $2"; }; }
lacks() { if grep -qF -- "$2" "$1"; then cat "$1" >&2; fail "$1 has: $2"; fi; }
mode() { [ "$(stat -c %a "$1")" = "$2" ] || fail "$1 has mode $(stat -c %a "$1"), want $2"; }

echo "building saqshy-gateway for this machine"
mkdir -p "$tmp/bin/linux-amd64"
(cd "$repo" && CGO_ENABLED=0 go build -o "$tmp/bin/linux-amd64/saqshy-gateway" ./cmd/saqshy-gateway)

# Fake system commands: each logs its arguments; getent knows the user once
# useradd has run, and the i2c group but not gpio.
fake=$tmp/fake; mkdir -p "$fake"; log=$tmp/calls.log; : > "$log"
for c in apt-get useradd usermod chown chgrp systemctl; do
	printf '#!/bin/sh\necho "%s $*" >> %s\n' "$c" "$log" > "$fake/$c"
done
printf '#!/bin/sh\necho "useradd $*" >> %s\ntouch %s/user-exists\n' "$log" "$tmp" > "$fake/useradd"
cat > "$fake/getent" <<EOS
#!/bin/sh
case "\$1 \$2" in
"passwd saqshy") [ -f $tmp/user-exists ] ;;
"group i2c") echo "i2c:x:998:" ;;
*) exit 2 ;;
esac
EOS
chmod +x "$fake"/*

root=$tmp/root
cfg=$tmp/centre.yaml
printf 'centre: {id: test-centre}\nzones: [{id: room-101, kind: living}]\nsensors: [{id: r1, zone: room-101, source: zigbee2mqtt, topic: zigbee2mqtt/r1}]\n' > "$cfg"
run() { PATH="$fake:$PATH" SAQSHY_ROOT="$root" SAQSHY_ARCH="$1" bash "$here/install.sh" "$tmp/bin" "${2:-}"; }

echo "first install"
run x86_64 "$cfg" > "$tmp/out1" 2>&1 || { cat "$tmp/out1"; fail "install.sh failed"; }
for s in "==> 1/8 architecture" "x86_64: using $tmp/bin/linux-amd64/saqshy-gateway" "==> 3/8 user saqshy" "created" \
	"member of i2c" "no group gpio" "installed: /usr/local/bin/saqshy-gateway" "installed /etc/saqshy/centre.yaml" \
	"OK" "installed: /etc/systemd/system/saqshy-gateway.service" "installed: /etc/mosquitto/conf.d/saqshy.conf" \
	"enabled in $root" "saqshy-gateway doctor"; do want "$tmp/out1" "$s"; done
want "$log" "useradd --system --home-dir /var/lib/saqshy --no-create-home --shell /usr/sbin/nologin saqshy"
want "$log" "usermod -aG i2c saqshy"
want "$log" "chown saqshy:saqshy $root/var/lib/saqshy $root/var/lib/saqshy/spool"
want "$log" "systemctl --root=$root enable saqshy-gateway.service"
lacks "$log" "usermod -aG gpio"
mode "$root/usr/local/bin/saqshy-gateway" 755
mode "$root/etc/saqshy/centre.yaml" 640
mode "$root/var/lib/saqshy/spool" 750
cmp -s "$cfg" "$root/etc/saqshy/centre.yaml" || fail "config not installed"

echo "second install: idempotent, keeps the config"
: > "$log"
printf '# edited on site\n' >> "$root/etc/saqshy/centre.yaml"
printf 'centre: {id: other}\n' > "$tmp/other.yaml"
run aarch64 "$tmp/other.yaml" > "$tmp/out2" 2>&1 && fail "arm64 install without an arm64 binary succeeded"
want "$tmp/out2" "no linux-arm64/saqshy-gateway in $tmp/bin"
run x86_64 "$tmp/other.yaml" > "$tmp/out2" 2>&1 || { cat "$tmp/out2"; fail "second install failed"; }
for s in "exists" "unchanged: /usr/local/bin/saqshy-gateway" "kept the existing /etc/saqshy/centre.yaml; yours is /etc/saqshy/centre.yaml.new" \
	"unchanged: /etc/systemd/system/saqshy-gateway.service" "kept the existing /etc/mosquitto/saqshy.acl"; do want "$tmp/out2" "$s"; done
lacks "$log" "useradd"
want "$root/etc/saqshy/centre.yaml" "# edited on site"
cmp -s "$tmp/other.yaml" "$root/etc/saqshy/centre.yaml.new" || fail "new config not put next to the old one"

echo "fresh root without a config: the example"
rm -rf "$root" "$tmp/user-exists"
run x86_64 > "$tmp/out3" 2>&1 || { cat "$tmp/out3"; fail "install without config failed"; }
want "$tmp/out3" "wrote an example /etc/saqshy/centre.yaml"
want "$root/etc/saqshy/centre.yaml" "centre:"

echo "systemd-analyze verify on the installed unit"
command -v systemd-analyze >/dev/null || fail "systemd-analyze not found: install Debian's systemd package (make tools does)"
# The Pi's stock units (sysinit.target, ...) are the host's: copy them into the root.
stock=/usr/lib/systemd/system; [ -d "$stock" ] || stock=/lib/systemd/system
mkdir -p "$root/usr/lib/systemd"
cp -a "$stock" "$root/usr/lib/systemd/system"
systemd-analyze verify --root="$root" "$root/etc/systemd/system/saqshy-gateway.service" > "$tmp/verify" 2>&1 || { cat "$tmp/verify"; fail "systemd-analyze verify"; }
if [ -s "$tmp/verify" ]; then cat "$tmp/verify"; fail "systemd-analyze verify printed warnings"; fi
# Without the binary it must fail: the check is real.
rm "$root/usr/local/bin/saqshy-gateway"
if systemd-analyze verify --root="$root" "$root/etc/systemd/system/saqshy-gateway.service" > "$tmp/verify" 2>&1; then
	fail "systemd-analyze verify passed with the binary missing"
fi
echo "PASS: install.sh and the systemd unit"
