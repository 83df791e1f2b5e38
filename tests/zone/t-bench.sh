#!/bin/sh
# The benchmarks' shared parts, on the host (no VM): what --plot draws
# must be what was measured, and a bad option must cost nothing.
#
# Asserts: cdf_hist turns a cyclictest histogram into the right cumulative
# shares (overflows counted: the line ends below 1) and thins a long one
# to a few hundred points that still reach its last bucket; cdf_redis
# takes the shares from redis-benchmark's cumulative counts; cdf_values
# from raw samples; bench_collect keeps a figure's series apart, in the
# order they came, and passes every other line through; bench_plot draws
# a PNG of 1000x650 and an SVG per figure, and refuses a directory with
# nothing to draw; the benchmarks refuse bad options (a count of 0, an
# unknown scheduler, --out without --plot) with one line and exit 2
# before booting anything.
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$root/tests/vm/lib.sh"
# shellcheck source=scripts/bench/host.sh
. "$root/scripts/bench/host.sh"
W=$(mktemp -d /tmp/cz-t-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
echo "== benchmark plots and options, on the host"

# A histogram: 10 samples at 5 us, 30 at 7 us, 50 at 100 us, 10 overflows.
{
	echo "# Histogram"
	printf '%06d %06d\n' 5 10 7 30 100 50 200 0
	echo "# Total: 000000090"
	echo "# Histogram Overflows: 00010"
} > "$W/h"
cdf_hist f "one" "$W/h" > "$W/h.out"
check "cdf_hist: a point per filled bucket, shares of all 100 samples ($(tr '\t' ' ' < "$W/h.out" | cut -d' ' -f4,5 | paste -sd,))" \
	[ "$(cut -f4,5 "$W/h.out" | tr '\t' ' ' | paste -sd,)" = "5 0.10000,7 0.40000,100 0.90000" ]
check "cdf_hist: figure and series named on each line" \
	[ "$(cut -f1-3 "$W/h.out" | sort -u | tr '\t' ' ')" = "CZ-CDF f one" ]

# A long histogram: 20000 buckets of one sample each.
{
	echo "# Histogram"
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "%06d %06d\n", i, 1 }'
} > "$W/long"
cdf_hist f long "$W/long" > "$W/long.out"
n=$(wc -l < "$W/long.out")
last=$(tail -n1 "$W/long.out" | cut -f4,5 | tr '\t' ' ')
check "cdf_hist: 20000 buckets thinned to $n points (100-1000)" [ "$n" -ge 100 -a "$n" -le 1000 ]
check "cdf_hist: the thinned line still ends at the last bucket ($last)" [ "$last" = "20000 1.00000" ]

printf '%s\n' "  0.000% <= 0.103 milliseconds (cumulative count 1)" \
	" 50.000% <= 0.207 milliseconds (cumulative count 500)" \
	"100.000% <= 3.100 milliseconds (cumulative count 1000)" \
	"Cumulative distribution of latencies:" > "$W/rb"
check "cdf_redis: shares from the cumulative counts" \
	[ "$(cdf_redis g r "$W/rb" | cut -f4,5 | tr '\t' ' ' | paste -sd,)" = "0.103 0.00100,0.207 0.50000,3.100 1.00000" ]
check "cdf_values: unsorted samples sorted, a share each" \
	[ "$(printf '3\n1\n2\n4\n' | cdf_values g v | cut -f4,5 | tr '\t' ' ' | paste -sd,)" = "1 0.25000,2 0.50000,3 0.75000,4 1.00000" ]

# What a guest part prints, through bench_collect.
mkdir -p "$W/out"
{
	echo "a table line"
	plot_fig f "a title" "latency (us)"
	cat "$W/h.out"
	printf 'CZ-CDF\tf\ttwo\t3\t0.50000\nCZ-CDF\tf\ttwo\t9\t1.00000\n'
	echo "another line"
} | bench_collect "$W/out" > "$W/passed"
check "bench_collect: other lines pass through ($(paste -sd'|' "$W/passed"))" \
	[ "$(paste -sd'|' "$W/passed")" = "a table line|another line" ]
check "bench_collect: the series in the order they came" \
	[ "$(paste -sd, "$W/out/f.series")" = "one,two" ]
check "bench_collect: each series' points in its own file" \
	[ "$(wc -l < "$W/out/f.1.dat")" -eq 3 -a "$(wc -l < "$W/out/f.2.dat")" -eq 2 ]
check "bench_collect: the figure's title and axis" \
	[ "$(paste -sd'|' "$W/out/f.plot")" = "a title|latency (us)" ]

bench_plot "$W/out" > "$W/plot.out" 2>&1
check "bench_plot: exit 0, says where ($(head -n1 "$W/plot.out"))" \
	grep -q "^plot: $W/out/f.png, .svg$" "$W/plot.out"
# PNG: the signature, then IHDR's width and height (big-endian) at 16.
size=$(od -An -tu1 -j16 -N8 "$W/out/f.png" 2>/dev/null |
	awk '{ printf "%dx%d", $3 * 256 + $4, $7 * 256 + $8 }')
check "bench_plot: f.png is a PNG of 1000x650 ($size)" \
	[ "$(head -c8 "$W/out/f.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a -a "$size" = 1000x650 ]
check "bench_plot: f.svg is an SVG with both series' names" \
	sh -c "grep -q '<svg' '$W/out/f.svg' && grep -q '>one<' '$W/out/f.svg' && grep -q '>two<' '$W/out/f.svg'"
mkdir -p "$W/empty"
bench_plot "$W/empty" > "$W/empty.out" 2>&1
check "bench_plot: nothing to draw is an error ($(head -n1 "$W/empty.out"))" \
	[ $? -ne 0 ]

# Bad options: one line, exit 2, nothing booted (each would take minutes).
bad_opt() {	# bad_opt SCRIPT ARGS...
	s=$1
	shift
	timeout 30 sh "$root/scripts/bench/$s" "$@" > "$W/bad.out" 2>&1
	rc=$?
	check "$s $*: exit 2 with one line (got $rc: $(head -n1 "$W/bad.out"))" \
		[ $rc -eq 2 -a "$(wc -l < "$W/bad.out")" -eq 1 ]
}
bad_opt peers.sh --reps 0
bad_opt peers.sh --scheds "fair scx_bogus"
bad_opt peers.sh --duration x
bad_opt latency.sh --out "$W/x"
bad_opt mutex.sh --duration 0
bad_opt netaware.sh --requests -1
bad_opt zones.sh --out "$W/x"
bad_opt autoswitch.sh --phase 0
bad_opt control.sh --out "$W/x"
summary
