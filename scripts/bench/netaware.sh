#!/bin/sh
#
# netaware.sh: redis request latency under CPU hogs, default fair scheduler
# vs scx_netaware vs scx_central, inside one Control Zone VM boot (ratios
# within one boot are what counts under TCG).
#
#   scripts/bench/netaware.sh [--kernel V] [--smp SPEC | --native]
#                             [--requests N] [--boost-us US] [--cpus LIST]
#                             [--plot [--out DIR]]
#
# redis-server runs in network namespace cz-srv, redis-benchmark (one client,
# one request at a time, so every request wakes the server through the
# network) in namespace cz-cli, joined by a veth pair; stress-ng --cpu hogs,
# one per CPU, run meanwhile. --cpus confines all of them to a CPU list of
# the guest (taskset; default: every CPU). Per scheduler it prints p50/p99/p99.9
# (ms) for GET and SET, and the hogs' throughput (bogo ops/s) as a share of
# what they got under fair. --boost-us is passed to scx_netaware (default
# 2000: under TCG kernel code runs ~10x slower than on hardware, and the
# default 200 us runs out inside one request). --smp sets the zone's vCPUs:
# with more vCPUs than host cores (the default zone has 4) the host
# deschedules vCPUs for milliseconds, and that, not the guest's scheduler,
# sets the p99 under TCG; --cpus 0-1 in the default zone keeps two vCPUs
# busy on a 2-core host and so measures the guest's scheduler. The row
# "fair, FIFO" runs redis-server and redis-benchmark as SCHED_FIFO: the
# floor no scheduler of SCHED_OTHER tasks can go below, so its p99 over
# fair's is the best ratio any policy could reach in that boot.
# --native runs it on this machine, where a request's platform cost is
# microseconds and the issue's target can be judged; --boost-us then
# defaults to the scheduler's own 200. --plot draws the GET and the SET
# latency CDF per row (redis-get, redis-set: .png and .svg in DIR, by
# default a new directory in /tmp). A benchmark, not a test: it asserts
# nothing.

if [ "${1:-}" != --guest ]; then
	# shellcheck source=scripts/bench/host.sh
	. "$(dirname "$0")/host.sh"
	vm='' requests=1000 boost='' cpus=all native=no
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel|--smp) vm="$vm $1 $2"; shift 2 ;;
		--native) native=yes; shift ;;
		--requests) requests=$2; shift 2 ;;
		--boost-us) boost=$2; shift 2 ;;
		--cpus) cpus=$2; shift 2 ;;
		--plot) BENCH_PLOT=yes; shift ;;
		--out) BENCH_OUT=$2; shift 2 ;;
		*) echo "usage: netaware.sh [--kernel V] [--smp SPEC | --native] [--requests N] [--boost-us US] [--cpus LIST] [--plot [--out DIR]]" >&2; exit 2 ;;
		esac
	done
	[ -n "$boost" ] || { [ $native = yes ] && boost=200 || boost=2000; }
	bench_count --requests "$requests"
	bench_count --boost-us "$boost"
	bench_exec $native "$vm" \
		"scx_netaware scx_central redis-server redis-benchmark nc chrt taskset stress-ng" \
		"$requests" "$boost" "$cpus"
fi

# shellcheck source=tests/vm/lib.sh
. "${CZ_LIB:-/cz/tests/lib.sh}"
requests=$2 boost=$3 cpus=$4
bench_setup
T=
if [ "$cpus" != all ]; then
	taskset -c "$cpus" true 2>/dev/null || { echo "--cpus $cpus: not a CPU list of this zone ($(nproc) CPUs)"; exit 2; }
	T="taskset -c $cpus"
fi
NR_HOGS=$($T nproc)

AT_EXIT=netns_unpair
netns_pair || { echo "veth pair between two namespaces could not be set up"; exit 1; }
$T $IP netns exec $NETNS_SRV redis-server --port 6379 --save '' --appendonly no \
	--protected-mode no --daemonize no > "$TMP/redis.log" 2>&1 &
REDIS=$!
AT_EXIT="kill $REDIS 2>/dev/null; wait $REDIS 2>/dev/null; netns_unpair"
# Up when it answers PING (redis-benchmark may hang on a refused connection).
i=0
until echo PING | $IP netns exec $NETNS_CLI nc -w 1 $NS_SRV 6379 2>/dev/null | grep -q PONG; do
	i=$((i + 1))
	[ $i -lt 50 ] || { echo "redis-server did not come up"; cat "$TMP/redis.log"; exit 1; }
	sleep 0.2
done

# pcts FILE: p50 p99 p99.9 (ms) from redis-benchmark's percentile list
# ("99.900% <= 1.207 milliseconds (cumulative count 1998)").
pcts() {
	awk '/% <= .* milliseconds/ {
		p = $1; sub(/%/, "", p); p += 0; v = $3
		if (!a && p >= 50) a = v
		if (!b && p >= 99) b = v
		if (!c && p >= 99.9) c = v
	} END { print (a ? a : "?"), (b ? b : "?"), (c ? c : "?") }' "$1"
}

bench() {	# bench TEST: one redis-benchmark run (in $TMP/TEST.txt), its percentiles
	$RT $T $IP netns exec $NETNS_CLI redis-benchmark -h $NS_SRV -p 6379 -c 1 -n "$requests" \
		-t "$1" > "$TMP/$1.txt" 2>&1
	pcts "$TMP/$1.txt"
}

# row NAME: GET and SET under hogs; the hogs' bogo ops/s in $HOG_RATE, over
# the same window (stress-ng reports its metrics when interrupted)
row() {
	$T stress-ng --cpu "$NR_HOGS" --metrics-brief > "$TMP/hogs.txt" 2>&1 &
	hogs=$!
	sleep 1
	get=$(bench get)
	set=$(bench set)
	kill -INT $hogs
	wait $hogs
	HOG_RATE=$(awk '$4 == "cpu" { print int($9) }' "$TMP/hogs.txt")
	share=$([ -n "$FAIR_RATE" ] && [ -n "$HOG_RATE" ] &&
		echo "$((HOG_RATE * 100 / FAIR_RATE))%" || echo "100%")
	# shellcheck disable=SC2086 # one word per percentile
	printf '%-14s %7s %7s %7s  %7s %7s %7s  %6s %5s\n' "$1" $get $set \
		"${HOG_RATE:-?}" "$share"
	cdf_redis redis-get "$1" "$TMP/get.txt"
	cdf_redis redis-set "$1" "$TMP/set.txt"
}

# Warm-up: the first connection, ARP, page cache.
$T $IP netns exec $NETNS_CLI redis-benchmark -h $NS_SRV -p 6379 -c 1 -n 200 -t get \
	> /dev/null 2>&1 || { echo "redis-benchmark cannot reach redis-server"; cat "$TMP/redis.log"; exit 1; }

echo "# kernel $(uname -r), $(nproc) CPUs, the benchmark on CPUs $cpus; redis-benchmark -c 1 -n $requests over veth; stress-ng --cpu $NR_HOGS meanwhile; scx_netaware --boost-us $boost"
for t in get set; do
	plot_fig "redis-$t" "redis-benchmark -t $t -c 1 over veth, stress-ng --cpu $NR_HOGS meanwhile, kernel $(uname -r)" "latency (ms)"
done
printf '%-14s %7s %7s %7s  %7s %7s %7s  %6s %5s\n' "" GET GET GET SET SET SET hogs hogs
printf '%-14s %7s %7s %7s  %7s %7s %7s  %6s %5s\n' sched p50_ms p99_ms p99.9_ms \
	p50_ms p99_ms p99.9_ms ops/s share

# redis_policy ARGS: chrt ARGS for every thread of redis-server.
redis_policy() {
	for t in /proc/$REDIS/task/*; do
		chrt "$@" "${t##*/}" > /dev/null || return 1
	done
}

FAIR_RATE= RT=
row fair
FAIR_RATE=$HOG_RATE
# The floor: server and client SCHED_FIFO preempt every fair or sched_ext
# task at once, so their latency is the platform's (network stack,
# interrupts, context switches), what no SCHED_OTHER policy can beat.
if redis_policy -f -p 50; then
	RT="chrt -f 50"
	row "fair, FIFO"
	RT=
	redis_policy -o -p 0
else
	echo "fair, FIFO: chrt could not make redis-server SCHED_FIFO"
	redis_policy -o -p 0	# the threads it did change
fi
for s in "scx_netaware --boost-us $boost" scx_central; do
	# shellcheck disable=SC2086 # the scheduler and its options
	sched_start "$TMP/s.log" $s || { echo "$s did not start"; cat "$TMP/s.log"; continue; }
	row "${s%% *}"
	sched_stop
done
