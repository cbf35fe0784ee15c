#!/usr/bin/env bash
# Installs the Saqshy gateway on a Raspberry Pi (Raspberry Pi OS / Debian).
# Usage: sudo ./install.sh path/to/saqshy-gateway [path/to/centre.yaml]
# Idempotent: run it again to upgrade the binary; the config is kept.
set -euo pipefail

bin=${1:?usage: install.sh SAQSHY_GATEWAY_BINARY [CENTRE_YAML]}
cfg=${2:-}
here=$(cd "$(dirname "$0")" && pwd)

step() { printf '\n==> %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "run as root (sudo)"; exit 1; }

step "packages: mosquitto, chrony (the Pi has no real-time clock)"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto mosquitto-clients chrony

step "user and directories"
id saqshy >/dev/null 2>&1 || useradd --system --home /var/lib/saqshy --shell /usr/sbin/nologin saqshy
for g in i2c gpio; do getent group "$g" >/dev/null && usermod -aG "$g" saqshy; done
install -d -o saqshy -g saqshy -m 0750 /var/lib/saqshy /var/lib/saqshy/spool
install -d -m 0755 /etc/saqshy

step "binary"
install -m 0755 "$bin" /usr/local/bin/saqshy-gateway
/usr/local/bin/saqshy-gateway version

step "config"
if [ -n "$cfg" ]; then
	install -m 0640 -g saqshy "$cfg" /etc/saqshy/centre.yaml
elif [ ! -f /etc/saqshy/centre.yaml ]; then
	/usr/local/bin/saqshy-gateway example-config > /etc/saqshy/centre.yaml
	chgrp saqshy /etc/saqshy/centre.yaml; chmod 0640 /etc/saqshy/centre.yaml
	echo "wrote an example /etc/saqshy/centre.yaml: edit it, then run this script again"
fi
/usr/local/bin/saqshy-gateway check-config /etc/saqshy/centre.yaml

step "mosquitto"
if [ -d "$here/../../firmware-config/mosquitto" ]; then
	install -m 0644 "$here/../../firmware-config/mosquitto/saqshy.conf" /etc/mosquitto/conf.d/saqshy.conf
	[ -f /etc/mosquitto/saqshy.acl ] || install -m 0644 "$here/../../firmware-config/mosquitto/saqshy.acl" /etc/mosquitto/saqshy.acl
	touch /etc/mosquitto/saqshy.passwd; chown mosquitto /etc/mosquitto/saqshy.passwd; chmod 0600 /etc/mosquitto/saqshy.passwd
	echo "add accounts with: mosquitto_passwd /etc/mosquitto/saqshy.passwd saqshy"
fi
systemctl restart mosquitto

step "service"
install -m 0644 "$here/saqshy-gateway.service" /etc/systemd/system/saqshy-gateway.service
systemctl daemon-reload
systemctl enable --now saqshy-gateway
systemctl --no-pager status saqshy-gateway | head -5
echo
echo "done: follow the log with  journalctl -u saqshy-gateway -f"
