#!/bin/sh
#
# zones.sh: what Control Zones cost and what partitioning buys, measured
# from the host (zones are VMs on it). Needs root and the build.
#
#   scripts/bench/zones.sh [--boots N] [--requests N] [--b-vcpus N] [--kernel V]
#                          [--plot [--out DIR]]
#
# Measures:
#   boot     `czctl zone up` to ready (scheduler enabled, service running,
#            port answering) of a 1-vCPU zone with scx_netaware and
#            redis-server, N times (default 5): median, min, max
#   layout   redis GET latency (redis-benchmark -c 1, N requests, default
#            5000) from the host through the forwarded port of zone A
#            (1 vCPU, redis under scx_netaware) while zone B's CPU hogs
#            run (N vCPUs, default 2, a stress-ng hog on each, under
#            scx_central), in three layouts:
#            pinned  A on host CPU 0, B on host CPU 1: disjoint CPUs
#            shared  one zone of 1 + N vCPUs holding both redis and the
#                    hogs, not pinned
#            floating  A and B as in pinned, but neither pinned
#            The client runs on host CPU 0 in every layout. Printed:
#            p50, p99, max in ms and requests/s, and each p99 over the
#            pinned layout's. --plot draws the latency CDF per layout
#            (layouts.png and .svg in DIR, default a new one in /tmp).
# A benchmark, not a test: it prints numbers and asserts nothing. Under
# TCG on 2 host cores the absolute numbers are distorted: compare the
# layouts of one run.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${CZ_BUILD:-$root/build}
czctl=$build/tools/czctl/czctl
boots=5 requests=5000 bvcpus=2
kernel=$(grep -vE '^\s*(#|$)' "$root/vmconfigs/kernels" | head -n1 | cut -d. -f1-2)

die() {
	echo "zones.sh: $*" >&2
	exit 2
}

# shellcheck source=scripts/bench/host.sh
. "$root/scripts/bench/host.sh"	# BENCH_PLOT, BENCH_OUT: set by the options
while [ $# -gt 0 ]; do
	case "$1" in
	--boots) boots=${2:-}; shift 2 ;;
	--requests) requests=${2:-}; shift 2 ;;
	--b-vcpus) bvcpus=${2:-}; shift 2 ;;
	--kernel) kernel=${2:-}; shift 2 ;;
	--plot) BENCH_PLOT=yes; shift ;;
	--out) BENCH_OUT=${2:-}; shift 2 ;;
	*) die "usage: zones.sh [--boots N] [--requests N] [--b-vcpus N] [--kernel V] [--plot [--out DIR]]" ;;
	esac
done
for v in "$boots" "$requests" "$bvcpus"; do
	case "$v" in ''|*[!0-9]*|0*) die "'$v' is not a whole number >= 1" ;; esac
done
[ "$(id -u)" = 0 ] || die "needs root (zones live in /run/controlzone)"
[ -x "$czctl" ] || die "$czctl is not built (scripts/setup)"
command -v redis-benchmark > /dev/null || die "redis-benchmark is not installed (redis-tools)"
[ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] || die "needs two host CPUs"
export CZ_ROOT=$root CZ_BUILD=$build CZ_SCHED_PATH=$build/scheds
# shellcheck source=tests/vm/lib.sh
. "$root/tests/vm/lib.sh"
bench_plot_setup

T=$(mktemp -d /tmp/cz-bench-zones.XXXXXX)
cleanup() {
	for z in zb-a zb-b zb-ab; do
		"$czctl" zone down --force "$z" > /dev/null 2>&1
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
PORT=16380

# The services of the zones below, as zone-file lines.
svc_redis() {
	echo "  - name: redis"
	echo "    command: [redis-server, --port, \"6379\", --protected-mode, \"no\", --save, \"\", --appendonly, \"no\"]"
	echo "    ports: [\"$PORT:6379\"]"
}
svc_hogs() {
	echo "  - name: hogs"
	echo "    command: [stress-ng, --cpu, \"$bvcpus\", --quiet]"
}

# zone_file FILE NAME VCPUS MEMORY HOSTCPUS SCHEDULER SERVICE...: a zone
# file (HOSTCPUS "": not pinned; SERVICE: redis or hogs)
zone_file() {
	f=$1 name=$2 vcpus=$3 mem=$4 pin=$5 sched=$6
	shift 6
	{
		echo "name: $name"
		echo "kernel: $kernel"
		echo "cpus: $vcpus"
		echo "memory: $mem"
		[ -z "$pin" ] || echo "host_cpus: $pin"
		echo "scheduler: {name: $sched}"
		echo "services:"
		for svc in "$@"; do
			"svc_$svc"
		done
	} > "$f"
}
# A: redis under scx_netaware; B: CPU hogs under scx_central
zone_a() { zone_file "$1" zb-a 1 512M "$2" scx_netaware redis; }
zone_b() { zone_file "$1" zb-b "$bvcpus" 512M "$2" scx_central hogs; }

up() {
	"$czctl" zone up "$1" > "$T/up.out" 2>&1 || {
		cat "$T/up.out" >&2
		die "zone up $1 failed"
	}
}

# latency LABEL: redis-benchmark GET through A's port, from host CPU 0;
# "LABEL rps avg min p50 p95 p99 max" (ms) from its summary to
# $T/layouts, its percentile list to $T/cdf as CZ-CDF lines
latency() {
	sleep 3	# the hogs under way
	taskset -c 0 redis-benchmark -h 127.0.0.1 -p $PORT -c 1 -n "$requests" \
		-t get > "$T/rb.txt" 2> "$T/rb.err" ||
		die "redis-benchmark failed: $(head -n1 "$T/rb.err")"
	awk -v name="$1" '
		/throughput summary:/ { rps = $3 }
		/latency summary/ { getline; getline; lat = $0 }
		END { if (rps == "" || lat == "") exit 1; $0 = lat; print name, rps, $1, $2, $3, $4, $5, $6 }' \
		"$T/rb.txt" >> "$T/layouts" || die "no summary in redis-benchmark's output ($T/rb.txt)"
	cdf_redis layouts "$1" "$T/rb.txt" >> "$T/cdf"
}

echo "== zones: kernel $kernel, $(getconf _NPROCESSORS_ONLN) host CPUs, $(uname -r) host"

# ---- boot time ----
zone_a "$T/a.yaml" 0
: > "$T/boots"
i=0
while [ $i -lt "$boots" ]; do
	t0=$(date +%s.%N)
	up "$T/a.yaml"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }' >> "$T/boots"
	"$czctl" zone down zb-a > /dev/null 2>&1
	i=$((i + 1))
done
printf 'boot (zone up to ready, 1 vCPU, scx_netaware + redis): median %s s, min %s, max %s (%s boots)\n' \
	"$(median < "$T/boots")" "$(sort -n "$T/boots" | head -n1)" \
	"$(sort -n "$T/boots" | tail -n1)" "$boots"

# ---- layouts ----
: > "$T/layouts"
plot_fig layouts "redis GET from the host through the port of zone A, -c 1, $requests requests, hogs on $bvcpus vCPUs, kernel $kernel" "latency (ms)" > "$T/cdf"
zone_a "$T/a.yaml" 0
zone_b "$T/b.yaml" 1
up "$T/a.yaml"
up "$T/b.yaml"
latency pinned
"$czctl" zone down zb-a > /dev/null 2>&1
"$czctl" zone down zb-b > /dev/null 2>&1

zone_file "$T/ab.yaml" zb-ab $((bvcpus + 1)) 768M "" scx_netaware redis hogs
up "$T/ab.yaml"
latency shared
"$czctl" zone down zb-ab > /dev/null 2>&1

zone_a "$T/a.yaml" ""
zone_b "$T/b.yaml" ""
up "$T/a.yaml"
up "$T/b.yaml"
latency floating
"$czctl" zone down zb-a > /dev/null 2>&1
"$czctl" zone down zb-b > /dev/null 2>&1

echo "redis GET from the host, -c 1, $requests requests, hogs on $bvcpus vCPUs (ms):"
printf '%-9s %9s %8s %8s %8s %12s\n' layout requests/s p50 p99 max "p99/pinned"
awk '
	{ name[NR] = $1; rps[NR] = $2; p50[NR] = $5; p99[NR] = $7; max[NR] = $8 }
	$1 == "pinned" { base = $7 }
	END {
		for (i = 1; i <= NR; i++)
			printf "%-9s %9.0f %8.3f %8.3f %8.3f %12.2f\n", name[i], rps[i],
				p50[i], p99[i], max[i], (base > 0 ? p99[i] / base : 0)
	}' "$T/layouts"
if [ "$BENCH_PLOT" = yes ]; then
	bench_collect "$BENCH_OUT" < "$T/cdf"
	bench_plot "$BENCH_OUT" || exit 1
fi
