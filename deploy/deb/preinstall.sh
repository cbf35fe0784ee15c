#!/bin/sh
# Creates the saqshy system user before the files land.
set -e
if ! getent passwd saqshy >/dev/null; then
	useradd --system --home-dir /var/lib/saqshy --no-create-home --shell /usr/sbin/nologin saqshy
fi
for g in i2c gpio; do
	if getent group "$g" >/dev/null; then usermod -aG "$g" saqshy; fi
done
