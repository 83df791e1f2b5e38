#!/bin/sh
#
# latency.sh: wakeup latency and hackbench time, default fair scheduler vs
# scx_central, inside one Control Zone VM boot (ratios within one boot are
# what counts under TCG; absolute numbers drift between runs).
#
#   scripts/bench/latency.sh [--kernel V | --native] [--duration SECS] [--loops N]
#                            [--plot [--out DIR]]
#
# Measures, in order:
#   idle   cyclictest alone (the floor)
#   fair   cyclictest + stress-ng --cpu 4, default scheduler
#   X      the same under each scheduler in $SCHEDS (default: scx_central)
# and hackbench -g 4 -l LOOPS under fair and each scheduler.
# cyclictest without -a pins its thread to CPU 0, which is scx_central's
# central CPU; so each latency row is measured twice: as the issue's
# command has it (cpu0) and with -a 1-3 (the thread runs on workers, next
# to the hogs, where wakeup preemption matters).
# Prints p50/p99/p99.9 wakeup latency (us) and hackbench seconds. --plot
# draws the wakeup latency CDF of each row, one figure per placement
# (wakeup-cpu0, wakeup-workers: .png and .svg in DIR, by default a new
# directory in /tmp).
# A benchmark, not a test: it asserts nothing.

if [ "${1:-}" != --guest ]; then
	# shellcheck source=scripts/bench/host.sh
	. "$(dirname "$0")/host.sh"
	vm='' dur=20 loops=600 native=no
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) vm="$vm $1 $2"; shift 2 ;;
		--native) native=yes; shift ;;
		--duration) dur=$2; shift 2 ;;
		--loops) loops=$2; shift 2 ;;
		--plot) BENCH_PLOT=yes; shift ;;
		--out) BENCH_OUT=$2; shift 2 ;;
		*) echo "usage: latency.sh [--kernel V | --native] [--duration SECS] [--loops N] [--plot [--out DIR]]" >&2; exit 2 ;;
		esac
	done
	bench_count --duration "$dur"
	bench_count --loops "$loops"
	bench_exec $native "$vm" "${SCHEDS:-scx_central} cyclictest hackbench stress-ng" \
		"$dur" "$loops" "${SCHEDS:-scx_central}"
fi

# shellcheck source=tests/vm/lib.sh
. "${CZ_LIB:-/cz/tests/lib.sh}"
dur=$2 loops=$3 scheds=$4
bench_setup

cyclic() {	# cyclic [CPUS]
	cyclictest -q --policy=other -i 1000 -D "$dur" -h 100000 ${1:+-a "$1"} \
		> "$TMP/hist" 2>/dev/null
	hist_pct "$TMP/hist" 50 99 99.9
}

WORKERS=1-$(($(nproc) - 1))
for f in "cpu0 CPU 0" "workers CPUs $WORKERS"; do
	plot_fig "wakeup-${f%% *}" "cyclictest -i 1000 on ${f#* } next to stress-ng --cpu 4 (idle: alone), $dur s, $(uname -r)" "wakeup latency (us)"
done

row() {	# row NAME [CPUS]
	set -- "$1" "$2" $(cyclic "$2")
	printf '%-24s %8s %8s %8s\n' "$1${2:+ (-a $2)}" "$3" "$4" "$5"
	cdf_hist "wakeup-$([ -n "$2" ] && echo workers || echo cpu0)" "$1" "$TMP/hist"
}

hogs_on() { stress-ng --cpu 4 -q & HOGS=$!; sleep 1; }
hogs_off() { kill "$HOGS"; wait "$HOGS" 2>/dev/null; }

hack() {
	s=$(hackbench -g 4 -l "$loops" 2>/dev/null | sed -n 's/^Time: //p')
	echo "${s:-?}"
}

echo "# kernel $(uname -r), $(nproc) CPUs, cyclictest -i 1000 --policy=other -D $dur, stress-ng --cpu 4, hackbench -g 4 -l $loops"
printf '%-24s %8s %8s %8s\n' config p50_us p99_us p99.9_us

row idle
row idle "$WORKERS"

hogs_on
row fair
row fair "$WORKERS"
hogs_off
printf '%-24s %8s\n' "fair hackbench_s" "$(hack)"

for s in $scheds; do
	sched_start "$TMP/$s.log" $s || { echo "$s did not start"; cat "$TMP/$s.log"; continue; }
	hogs_on
	row "$s"
	row "$s" "$WORKERS"
	hogs_off
	printf '%-24s %8s\n' "$s hackbench_s" "$(hack)"
	sched_stop
done
