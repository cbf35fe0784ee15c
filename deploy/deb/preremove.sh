#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl stop saqshy-gateway.service || true
	if [ "$1" = remove ]; then systemctl disable saqshy-gateway.service || true; fi
fi
