#!/usr/bin/env bash
# fuzz.sh: run every fuzz target of the given packages for FUZZTIME each and report
# the executions per target (make fuzz). Fails if a target fails, or made fewer than
# FUZZMIN executions: a target stuck at 0 execs/s tests nothing.
#
#   FUZZTIME=20s FUZZMIN=100 FUZZMINIMIZETIME=1s scripts/fuzz.sh ./gateway/decode ...
#
# FUZZMINIMIZETIME bounds the minimisation of each new interesting input (go test's
# default is 60 s: in a 20 s run both workers could spend the whole run minimising,
# and the engine counts those executions only when a minimisation ends, so it
# reported 0 execs/s).
set -uo pipefail
fuzztime=${FUZZTIME:-20s}
min=${FUZZMIN:-100}
minimize=${FUZZMINIMIZETIME:-1s}
report=$(mktemp)
log=$(mktemp)
trap 'rm -f "$report" "$log"' EXIT
failed=0

# seconds converts go's elapsed ("9s", "1m3s", "1h0m2s") to seconds.
seconds() {
	awk -v d="$1" 'BEGIN { s = 0; n = split(d, a, /[hms]/); m = d; gsub(/[0-9.]/, "", m);
		for (i = 1; i <= length(m); i++) { u = substr(m, i, 1); v = a[i] + 0;
			s += (u == "h") ? v * 3600 : (u == "m") ? v * 60 : v }
		print s }'
}

for pkg in "$@"; do
	targets=$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz') || { echo "fuzz: cannot list $pkg" >&2; failed=1; continue; }
	for f in $targets; do
		echo "== $pkg $f"
		go test -run='^$' -fuzz="^$f\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimize" "$pkg" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		last=$(grep -E '^fuzz: elapsed: [0-9hms.]+, execs: [0-9]+' "$log" | tail -1)
		execs=0 elapsed=0
		if [ -n "$last" ]; then
			execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$last")
			elapsed=$(seconds "$(sed -E 's/^fuzz: elapsed: ([0-9hms.]+),.*/\1/' <<<"$last")")
		fi
		rate=$(awk -v e="$execs" -v s="$elapsed" 'BEGIN { printf "%.0f", (s > 0) ? e / s : 0 }')
		status=ok
		if [ "$rc" != 0 ]; then
			status="FAIL (go test exit $rc)"
			failed=1
		elif [ "$execs" -lt "$min" ]; then
			status="FAIL (< $min execs)"
			failed=1
		fi
		printf '%-28s %-22s %10s %8s %6ss  %s\n' "${pkg#./}" "$f" "$execs" "$rate" "$elapsed" "$status" >>"$report"
	done
done

echo
echo "fuzz: FUZZTIME=$fuzztime FUZZMINIMIZETIME=$minimize FUZZMIN=$min on $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %-22s %10s %8s %7s  %s\n' package target execs execs/s elapsed status
cat "$report"
exit $failed
