#!/bin/sh
# Sets up InfluxDB 2.x for Saqshy: the centres bucket (raw points, 400 days), the
# rollup bucket's measurement written by a task (climate_1h, kept 5 years), a
# read-only token for saqshy-monitor and write-only tokens per gateway.
#
#   INFLUX_HOST=http://127.0.0.1:8086 INFLUX_TOKEN=$(cat secrets/influx-admin-token) ./influx-setup.sh
set -eu
ORG=${ORG:-ministry}
BUCKET=${BUCKET:-centres}
RAW_RETENTION=${RAW_RETENTION:-400d}
: "${INFLUX_HOST:?set INFLUX_HOST}" "${INFLUX_TOKEN:?set INFLUX_TOKEN}"

influx bucket list --org "$ORG" --name "$BUCKET" >/dev/null 2>&1 ||
	influx bucket create --org "$ORG" --name "$BUCKET" --retention "$RAW_RETENTION"
influx bucket update --id "$(influx bucket list --org "$ORG" --name "$BUCKET" --hide-headers | cut -f1)" --retention "$RAW_RETENTION"

# The hourly climate rollup the monitor's 7-day charts read (same schema as the
# monitor's own rollup: climate_1h centre, zone, zone_kind | mean, min, max, n,
# stamped at the start of the hour). It lives in the same bucket so the monitor
# reads one bucket.
cat > /tmp/saqshy-rollup.flux <<FLUX
option task = {name: "saqshy-climate-1h", every: 1h, offset: 5m}
data = from(bucket: "$BUCKET")
  |> range(start: -3h, stop: now())
  |> filter(fn: (r) => r._measurement == "climate" and r._field == "temperature_c")
  |> group(columns: ["centre", "zone", "zone_kind"])
agg = (fn, name) => data
  |> aggregateWindow(every: 1h, fn: fn, createEmpty: false, timeSrc: "_start")
  |> set(key: "_field", value: name)
union(tables: [agg(fn: mean, name: "mean"), agg(fn: min, name: "min"), agg(fn: max, name: "max"),
               agg(fn: count, name: "n") |> toInt()])
  |> set(key: "_measurement", value: "climate_1h")
  |> to(bucket: "$BUCKET", org: "$ORG")
FLUX
if ! influx task list --org "$ORG" | grep -q saqshy-climate-1h; then
	influx task create --org "$ORG" --file /tmp/saqshy-rollup.flux
fi

BID=$(influx bucket list --org "$ORG" --name "$BUCKET" --hide-headers | cut -f1)
echo "monitor token (read $BUCKET):"
influx auth create --org "$ORG" --description saqshy-monitor --read-bucket "$BID" --write-bucket "$BID" --hide-headers | cut -f3
echo "create one write-only token per gateway with:"
echo "  influx auth create --org $ORG --description gateway-<centre> --write-bucket $BID"
