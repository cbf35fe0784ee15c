#!/bin/sh
# Sets up InfluxDB 2.x for Saqshy: the centres bucket (raw points, 400 days), the
# rollups written by tasks (climate_1h; centre_latest, which the overview reads), a
# token for saqshy-monitor and write-only tokens per gateway.
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

# centre_latest: one point per centre the overview reads (the same rows saqshy-monitor's
# `latest` writer produces; docs/BENCHMARKS.md). Run either this task or the monitor's
# writer (latest.enabled), not both. Values are JSON strings; the monitor parses them.
# gateway/central/monitor's TestLatestTask runs this script's query on InfluxDB 1.8 and checks
# the overview it yields against the raw measurements.
cat > /tmp/saqshy-latest.flux <<'FLUX'
import "json"
option task = {name: "saqshy-centre-latest", every: 1m}

b = () => from(bucket: "BUCKET")
// keep the fields of a centre's latest timestamp (a field may be absent there)
latestPoint = (tables=<-) => {
  t = tables |> filter(fn: (r) => r._field == "total") |> keep(columns: ["centre", "_time"])
  v = tables |> map(fn: (r) => ({centre: r.centre, _time: r._time, _field: r._field, _value: string(v: r._value)}))
    |> group(columns: ["centre"])
  return join(tables: {v: v, t: t |> group(columns: ["centre"])}, on: ["centre", "_time"])
}
scoreFields = (tables=<-, prefix) => {
  at = tables |> filter(fn: (r) => r._field == "total")
    |> map(fn: (r) => ({centre: r.centre, _field: prefix + "at", _value: string(v: int(v: r._time))}))
  f = tables |> map(fn: (r) => ({centre: r.centre, _value: string(v: r._value),
      _field: if r._field == "total" or r._field == "caps" or r._field == "capped" or r._field == "has_data"
          or r._field == "gateway_total" or r._field == "differs" or r._field == "differs_in" or r._field == "implausible" then prefix + r._field
        else if r._field == "weights_version" then prefix + "wv" else prefix + "c." + r._field}))
  return union(tables: [at, f])
}
live = b() |> range(start: -6h)
  |> filter(fn: (r) => r._measurement == "safety_score" and r.period == "live")
  |> last()
  |> latestPoint()
  |> scoreFields(prefix: "live_")
// yesterday and the 30 days: the rating (the ministry's own day score,
// gateway/central/rating), not the gateway's safety_score. Yesterday's local day
// start lies in (now-48h, now-24h], = now-24h at local midnight: the stop is
// exclusive on 2.x, so it ends a second later
yest = b() |> range(start: -48h, stop: -23h59m59s)
  |> filter(fn: (r) => r._measurement == "rating" and r.period == "day")
  |> last()
  |> latestPoint()
  |> scoreFields(prefix: "yest_")
ratingTotals = b() |> range(start: -30d)
  |> filter(fn: (r) => r._measurement == "rating" and r.period == "day" and r._field == "total")
month = ratingTotals |> mean()
  |> map(fn: (r) => ({centre: r.centre, _field: "month", _value: string(v: r._value)}))
monthDays = ratingTotals |> count()
  |> map(fn: (r) => ({centre: r.centre, _field: "month_days", _value: string(v: r._value)}))
monthWithData = b() |> range(start: -30d)
  |> filter(fn: (r) => r._measurement == "rating" and r.period == "day" and r._field == "has_data" and r._value == true)
  |> count()
  |> map(fn: (r) => ({centre: r.centre, _field: "month_with_data", _value: string(v: r._value)}))
coverage = b() |> range(start: -6h)
  |> filter(fn: (r) => r._measurement == "coverage" and r.period == "live" and r.zone_kind == "all" and r._field == "ratio")
  |> last()
  |> map(fn: (r) => ({centre: r.centre, _field: "coverage", _value: string(v: r._value)}))
// last() per series (centre, night, field), then the latest night's fields: a last()
// over every night of a centre takes rows in table order, not time order, and mixes
// two nights whenever two lie in the range (12 hours a day); per-zone-kind points left out
nightRows = b() |> range(start: -36h)
  |> filter(fn: (r) => r._measurement == "round_night" and not exists r.zone_kind)
  |> last()
  |> map(fn: (r) => ({centre: r.centre, night: r.night, _time: r._time, _field: r._field, _value: string(v: r._value)}))
lastNight = nightRows |> group(columns: ["centre"]) |> sort(columns: ["night"]) |> last()
  |> keep(columns: ["centre", "night"])
nights = join(tables: {v: nightRows |> group(columns: ["centre"]), n: lastNight}, on: ["centre", "night"])
nightAt = nights |> group(columns: ["centre"]) |> sort(columns: ["_time"]) |> last()
  |> map(fn: (r) => ({centre: r.centre, _field: "night_at", _value: string(v: int(v: r._time))}))
nightName = nights |> group(columns: ["centre"]) |> first()
  |> map(fn: (r) => ({centre: r.centre, _field: "night", _value: r.night}))
nightFields = nights |> map(fn: (r) => ({centre: r.centre, _field: "night_" + r._field, _value: r._value}))
open = b() |> range(start: -30d)
  |> filter(fn: (r) => r._measurement == "alert" and r.severity == "critical" and r._field == "state")
  |> last()
  |> filter(fn: (r) => r._value != "resolved")
  |> group(columns: ["centre"])
  |> count()
  |> map(fn: (r) => ({centre: r.centre, _field: "open_critical", _value: string(v: r._value)}))
rows = union(tables: [live, yest, month, monthDays, monthWithData, coverage, nightAt, nightName, nightFields, open])
  |> group(columns: ["centre"])
  |> pivot(rowKey: ["centre"], columnKey: ["_field"], valueColumn: "_value")
  |> map(fn: (r) => ({centre: r.centre, _value: string(v: json.encode(v: r))}))
// the task writes:
rows |> map(fn: (r) => ({_time: now(), _measurement: "centre_latest", centre: r.centre, _field: "row", _value: r._value}))
  |> to(bucket: "BUCKET", org: "ORG", tagColumns: ["centre"])
rows |> group() |> count() |> map(fn: (r) => ({_time: now(), _measurement: "centre_latest_run", _field: "centres", _value: r._value}))
  |> to(bucket: "BUCKET", org: "ORG")
FLUX
sed -i "s/\"BUCKET\"/\"$BUCKET\"/g; s/\"ORG\"/\"$ORG\"/g" /tmp/saqshy-latest.flux
if ! influx task list --org "$ORG" | grep -q saqshy-centre-latest; then
	influx task create --org "$ORG" --file /tmp/saqshy-latest.flux
fi

BID=$(influx bucket list --org "$ORG" --name "$BUCKET" --hide-headers | cut -f1)
echo "monitor token (read $BUCKET):"
influx auth create --org "$ORG" --description saqshy-monitor --read-bucket "$BID" --write-bucket "$BID" --hide-headers | cut -f3
echo "ingest token (write $BUCKET; the only write token for rated centres: save it as secrets/influx-ingest-token):"
influx auth create --org "$ORG" --description saqshy-ingest --write-bucket "$BID" --hide-headers | cut -f3
echo "rated centres write through saqshy-ingest with signed links and hold no token;"
echo "an unrated private home writing here directly needs its own write-only token:"
echo "  influx auth create --org $ORG --description gateway-<centre> --write-bucket $BID"
