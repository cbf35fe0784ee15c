#!/bin/sh
# Owns the state and config to the saqshy user, enables the service, and starts it
# once the config is valid.
set -e
chown saqshy:saqshy /var/lib/saqshy /var/lib/saqshy/spool
chgrp saqshy /etc/saqshy /etc/saqshy/centre.yaml
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable saqshy-gateway.service
	if /usr/bin/saqshy-gateway check-config /etc/saqshy/centre.yaml >/dev/null 2>&1; then
		systemctl restart saqshy-gateway.service
	else
		echo "saqshy-gateway: edit /etc/saqshy/centre.yaml (saqshy-gateway check-config shows what is missing), then: systemctl start saqshy-gateway"
	fi
fi
