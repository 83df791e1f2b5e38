#!/bin/sh
#
# control.sh: how fast the control plane answers under load, inside one
# Control Zone VM boot.
#
#   scripts/bench/control.sh [--kernel V | --native] [--switches N] [--requests N] [--loops N]
#                            [--plot [--out DIR]]
#
# Measures:
#   switch   `czctl switch` from the command to the new scheduler enabled
#            (czctl -v's own timing), N times, alternating arguments, on an
#            idle zone and under stress-ng --cpu 4; and of that, the time
#            on the fair class, from the old scheduler's stop to the new
#            one's enable (the new one loads before the old one stops)
#   rtt      with stress-ng --cpu 4 and a hackbench loop running: stats
#            request round trips on one connection, 20 ms apart
#            (cz-ctl-rtt, the client code czctl uses): p50, p99, max,
#            under scx_central, then each other scheduler (czctl switch);
#            each twice: the client as an ordinary task, whose own wait
#            for a CPU after each reply counts, and as SCHED_FIFO (chrt),
#            which leaves the server's part; --plot draws the round
#            trips of the SCHED_FIFO client per scheduler (stats-rtt.png,
#            .svg in DIR, by default a new directory in /tmp)
# then, with the load stopped and scx_central running:
#   hackbench -g 4 -l LOOPS, three times without a stats client and three
#            times with one asking every 10 ms, interleaved
# A benchmark, not a test: it prints numbers and asserts nothing.

if [ "${1:-}" != --guest ]; then
	# shellcheck source=scripts/bench/host.sh
	. "$(dirname "$0")/host.sh"
	vm='' switches=5 requests=500 loops=300 native=no
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) vm="$vm $1 $2"; shift 2 ;;
		--native) native=yes; shift ;;
		--switches) switches=$2; shift 2 ;;
		--requests) requests=$2; shift 2 ;;
		--loops) loops=$2; shift 2 ;;
		--plot) BENCH_PLOT=yes; shift ;;
		--out) BENCH_OUT=$2; shift 2 ;;
		*) echo "usage: control.sh [--kernel V | --native] [--switches N] [--requests N] [--loops N] [--plot [--out DIR]]" >&2; exit 2 ;;
		esac
	done
	bench_count --switches "$switches"
	bench_count --requests "$requests"
	bench_count --loops "$loops"
	bench_exec $native "$vm" "scx_central czctl cz-ctl-rtt hackbench stress-ng chrt" \
		"$switches" "$requests" "$loops"
fi

# shellcheck source=tests/vm/lib.sh
. "${CZ_LIB:-/cz/tests/lib.sh}"
switches=$2 requests=$3 loops=$4
bench_setup
SOCK=/var/run/scx/root/stats

hack() { hackbench -g 4 -l "$loops" 2>/dev/null | sed -n 's/^Time: //p'; }

# spread LABEL FILE: median, min, max of FILE's numbers
spread() {
	printf '%-34s median %s min %s max %s (%s of %s)\n' "$1" \
		"$(median < "$2")" "$(sort -n "$2" | head -n1)" \
		"$(sort -n "$2" | tail -n1)" "$(wc -l < "$2")" "$switches"
}

# switch_times LABEL: $switches switches, alternating scx_central's slice
switch_times() {
	: > "$TMP/sw.times"
	: > "$TMP/sw.fair"
	i=0
	while [ $i -lt "$switches" ]; do
		i=$((i + 1))
		czctl switch -v scx_central -- --slice-us $((10000 + i % 2 * 10000)) > "$TMP/sw.out" 2>&1
		switch_timing "$TMP/sw.out"
		if [ -n "$SW_FAIR" ]; then
			echo "$SW_UP" >> "$TMP/sw.times"
			echo "$SW_FAIR" >> "$TMP/sw.fair"
		else
			echo "switch $i failed: $(grep -v '^czctl: \[' "$TMP/sw.out" | head -n1)"
		fi
	done
	spread "switch_s $1" "$TMP/sw.times"
	spread "  of which on the fair class" "$TMP/sw.fair"
}

echo "# kernel $(uname -r), $(nproc) CPUs"
czctl start scx_central || { echo "scx_central did not start"; exit 1; }
switch_times "idle"
stress-ng --cpu 4 -q &
HOGS=$!
sleep 1
switch_times "stress-ng --cpu 4"
(while :; do hackbench -g 2 -l 200 > /dev/null 2>&1; done) &
HACK=$!
sleep 1
plot_fig stats-rtt "stats round trips, SCHED_FIFO client, $requests requests 20 ms apart, stress-ng --cpu 4 + hackbench loop, $(uname -r)" "round trip (ms)"
for s in scx_central scx_mutex scx_avxfreq scx_netaware; do
	if [ $s != scx_central ] && ! czctl switch $s > "$TMP/sw.out" 2>&1; then
		echo "stats rtt under $s: the switch failed: $(head -n1 "$TMP/sw.out")"
		continue
	fi
	wait_sock $SOCK 10
	echo "stats rtt under $s, stress-ng --cpu 4 + hackbench -g 2 loop: $(cz-ctl-rtt $SOCK "$requests" 20)"
	echo "  the same, client SCHED_FIFO: $(chrt -f 50 cz-ctl-rtt $SOCK "$requests" 20 "$TMP/rtt")"
	[ -s "$TMP/rtt" ] && awk '{ print $1 / 1000 }' "$TMP/rtt" | cdf_values stats-rtt "$s"
	rm -f "$TMP/rtt"
done
czctl switch scx_central > /dev/null 2>&1

kill "$HACK" "$HOGS"
wait "$HOGS" 2>/dev/null
sleep 2
: > "$TMP/h.none"
: > "$TMP/h.client"
for i in 1 2 3; do
	hack >> "$TMP/h.none"
	cz-ctl-rtt $SOCK 100000 10 > /dev/null 2>&1 &
	RTT=$!
	sleep 0.5
	hack >> "$TMP/h.client"
	kill "$RTT" 2>/dev/null
	wait "$RTT" 2>/dev/null
done
echo "hackbench -g 4 -l $loops without a client (s): $(tr '\n' ' ' < "$TMP/h.none")median $(median < "$TMP/h.none")"
echo "hackbench -g 4 -l $loops, client every 10 ms (s): $(tr '\n' ' ' < "$TMP/h.client")median $(median < "$TMP/h.client")"
czctl stop
