#!/bin/sh
#
# mutex.sh: latency-critical wakeup latency and best-effort throughput,
# default fair scheduler vs scx_mutex (default mode and --strict), inside
# one Control Zone VM boot (ratios within one boot are what counts under
# TCG; absolute numbers drift between runs).
#
#   scripts/bench/mutex.sh [--kernel V] [--duration SECS] [--smp SPEC]
#   scripts/bench/mutex.sh --native [--duration SECS]   on this machine
#                                        (its kernel must have sched_ext)
#   both take --plot [--out DIR]: the LC wakeup latency CDF per
#   configuration, lc-wakeup.png and .svg in DIR (default: new in /tmp)
#
# LC: cyclictest -i 1000 (SCHED_OTHER) in a cgroup, the LC rule of
# scx_mutex. BE: stress-ng --cpu NPROC on the same vCPUs (default zone: 4,
# 2 cores x 2 threads; --smp 2,sockets=1,cores=1,threads=2 gives one core,
# and with no more vCPUs than host cores the host rarely deschedules one,
# which otherwise sets the tails under TCG). Per configuration: LC
# p50/p99/p99.9 wakeup latency (us), BE bogo ops/s, the share of LC CPU
# time that co-ran with BE on the sibling (cz-corun, over the middle of
# the run; attached before the scheduler starts, so that it sees each
# switch before scx_mutex's own sched_switch program does), and the ratios
# to fair. The row "fair, FIFO probe" runs the
# probe as SCHED_FIFO: the floor no scheduler of SCHED_OTHER tasks can go
# below, so its p99_vs_fair is the best ratio any policy could reach.
# Natively (--native) the siblings are real SMT threads, which is where
# the issue's latency target can be judged. A benchmark, not a test: it
# asserts nothing.

if [ "${1:-}" != --guest ]; then
	# shellcheck source=scripts/bench/host.sh
	. "$(dirname "$0")/host.sh"
	vm='' dur=20 native=no
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel|--smp) vm="$vm $1 $2"; shift 2 ;;
		--duration) dur=$2; shift 2 ;;
		--native) native=yes; shift ;;
		--plot) BENCH_PLOT=yes; shift ;;
		--out) BENCH_OUT=$2; shift 2 ;;
		*) echo "usage: mutex.sh [--kernel V] [--smp SPEC] [--native] [--duration SECS] [--plot [--out DIR]]" >&2; exit 2 ;;
		esac
	done
	bench_count --duration "$dur"
	bench_exec $native "$vm" "scx_mutex cz-corun cyclictest stress-ng" "$dur"
fi

# shellcheck source=tests/vm/lib.sh
. "${CZ_LIB:-/cz/tests/lib.sh}"
dur=$2
bench_setup
CG=$(cgroup2_root)/cz-bench-lc
mkdir -p "$CG" || { echo "cannot make the LC cgroup $CG"; exit 1; }
AT_EXIT='kill $meter $probe $hogs 2>/dev/null; wait; rmdir "$CG" 2>/dev/null'

# meter: cz-corun attached now, its window opened by run().
meter() {
	cz-corun --json --a-cgroup $CG --b-comm stress-ng-cpu --duration $((dur / 2)) --wait \
		> "$TMP/corun.json" 2> "$TMP/corun.err" &
	meter=$!
	wait_line "$TMP/corun.err" 'window opens' $meter
}

# run NAME: LC probe and BE hogs together for $dur s, the meter (attached
# by meter) over the middle half; prints one row.
run() {
	stress-ng --cpu "$(nproc)" --timeout "$dur" --metrics-brief > "$TMP/be.txt" 2>&1 &
	hogs=$!
	sh -c "echo \$\$ > $CG/cgroup.procs; exec cyclictest -q $POLICY -i 1000 -D $dur -h 400000" \
		> "$TMP/hist" 2>/dev/null &
	probe=$!
	sleep $((dur / 4))
	kill -USR1 $meter
	wait $meter $probe $hogs
	meter= probe= hogs=	# gone: AT_EXIT must not kill their pids' next owners
	set -- $(hist_pct "$TMP/hist" 50 99 99.9)
	cdf_hist lc-wakeup "$NAME" "$TMP/hist"
	# "stress-ng: metrc: [PID] cpu OPS REAL USR SYS OPS/S(real) OPS/S(cpu)"
	ops=$(awk '$4 == "cpu" && $5 ~ /^[0-9]+$/ { v = $(NF - 1) } END { printf "%.0f", v }' "$TMP/be.txt")
	co=$(awk -v c="$(jkey "$TMP/corun.json" corun_ns)" -v a="$(jkey "$TMP/corun.json" a_cpu_ns)" \
		'BEGIN { if (a > 0) printf "%.2f", 100 * c / a; else print "-" }')
	[ -n "$fair_p99" ] || { fair_p99=${2#>}; fair_ops=$ops; }
	printf '%-16s %8s %8s %8s %12s %9s %11s %9s\n' "$NAME" "$1" "$2" "$3" "$ops" "$co" \
		"$(awk -v x="${2#>}" -v f="$fair_p99" 'BEGIN { if (f > 0) printf "%.2f", x / f; else print "-" }')" \
		"$(awk -v x="$ops" -v f="$fair_ops" 'BEGIN { if (f > 0) printf "%.2f", x / f; else print "-" }')"
}

echo "# kernel $(uname -r), $(nproc) CPUs (cpu0 siblings $(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list)), $dur s per row"
echo "# LC: cyclictest -i 1000 --policy=other in a cgroup; BE: stress-ng --cpu $(nproc)"
plot_fig lc-wakeup "LC wakeup latency (cyclictest -i 1000 in a cgroup) next to stress-ng --cpu $(nproc), $dur s each, kernel $(uname -r)" "latency (us)"
printf '%-16s %8s %8s %8s %12s %9s %11s %9s\n' config p50_us p99_us p99.9_us be_ops_s corun_% p99_vs_fair be_vs_fair

fair_p99=
meter
POLICY=--policy=other NAME=fair run
# The floor: a SCHED_FIFO probe preempts every fair or sched_ext task at
# once, so its latency is the platform's (timer, interrupt, context switch),
# what no SCHED_OTHER policy can beat.
meter
POLICY="--policy=fifo -p 50" NAME="fair, FIFO probe" run
for mode in default strict; do
	meter
	sched_start "$TMP/mutex.log" scx_mutex $( [ $mode = strict ] && echo --strict) --lc-cgroup $CG ||
		{ echo "scx_mutex did not start"; cat "$TMP/mutex.log"; kill $meter; wait $meter; meter=; continue; }
	POLICY=--policy=other NAME="scx_mutex $mode" run
	sched_stop
done
