#!/bin/sh
#
# autoswitch.sh: a latency-critical service whose load changes, in a zone
# that keeps one scheduler or switches by rules. Is switching at least as
# good as the best fixed choice in every phase, and better than every
# fixed choice over the whole run? Measured from the host. Needs root and
# the build.
#
#   scripts/bench/autoswitch.sh [--phase S] [--kernel V] [--modes "M ..."]
#                               [--out DIR] [--plot]
#
# The zone: 2 vCPUs, 512 MiB, on host CPU 0; its service is cz-rr's
# server (each request 200 us of CPU, then the answer), its port
# forwarded; the client, cz-rr on the host, runs on host CPU 1. Four
# phases of S seconds each (default 30):
#   light   a request every 20 ms (each one wakes the server from sleep)
#   heavy   requests back to back, and stress-ng --cpu 4 in the zone
#   light, heavy again
# Modes (default all): fair (no sched_ext scheduler), scx_central,
# scx_netaware, scx_mutex (--lc-comm cz-rr: the service is its LC set),
# scx_avxfreq, each fixed for the whole run; and auto: the zone's
# switching rules (AUTO_* below: the fair class, scx_mutex while runnable
# tasks per vCPU stay >= 1.5 for 3 s), whose decisions are printed.
#
# Printed: per mode, each phase's p99 and the whole run's p50/p99 (every
# request of the four phases, in ms), then auto's ratio to the best fixed
# mode per phase and over the run. --out keeps the raw latencies (one
# file per mode and phase: start s, latency us), auto's zone profile
# (timeline.png) and, with --plot, the latency CDF per mode
# (latency-cdf.png, .svg: gnuplot).
#
# A benchmark, not a test: it asserts nothing. Under TCG on 2 host cores
# absolute numbers are distorted: compare the modes of one run.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${CZ_BUILD:-$root/build}
czctl=$build/tools/czctl/czctl
rr=$build/tests/helpers/cz-rr
phase=30 plot=no out=
modes="fair scx_central scx_netaware scx_mutex scx_avxfreq auto"
kernel=$(grep -vE '^\s*(#|$)' "$root/vmconfigs/kernels" | head -n1 | cut -d. -f1-2)
PORT=17070
ZONE=zb-auto

# auto: the default and the rule. Chosen from a run of the fixed modes
# (scripts/bench/README.md has it): scx_mutex with the service as its LC
# set had the lowest p99 in both kinds of phase, the fair class came next
# in the light ones; so the zone runs the fair class while the load is
# light and scx_mutex while its CPUs are oversubscribed.
AUTO_DEFAULT=fair
AUTO_BUSY="scx_mutex, args: [--lc-comm, cz-rr]"
AUTO_RULE="cpu.runnable >= 1.5"

die() {
	echo "autoswitch.sh: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--phase) phase=${2:-}; shift 2 ;;
	--kernel) kernel=${2:-}; shift 2 ;;
	--modes) modes=${2:-}; shift 2 ;;
	--out) out=${2:-}; shift 2 ;;
	--plot) plot=yes; shift ;;
	*) die "usage: autoswitch.sh [--phase S] [--kernel V] [--modes \"M ...\"] [--out DIR] [--plot]" ;;
	esac
done
case "$phase" in ''|*[!0-9]*|0*) die "--phase: '$phase' is not a whole number of seconds >= 1" ;; esac
for m in $modes; do
	case "$m" in fair|scx_central|scx_netaware|scx_mutex|scx_avxfreq|auto) ;;
	*) die "--modes: '$m' is not one of fair scx_central scx_netaware scx_mutex scx_avxfreq auto" ;;
	esac
done
[ "$(id -u)" = 0 ] || die "needs root (zones live in /run/controlzone)"
[ -x "$czctl" ] && [ -x "$rr" ] || die "the build is missing (scripts/setup)"
[ "$plot" = no ] || command -v gnuplot > /dev/null || die "--plot needs gnuplot (gnuplot-nox)"
[ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] || die "needs two host CPUs"
export CZ_ROOT=$root CZ_BUILD=$build CZ_SCHED_PATH=$build/scheds
# shellcheck source=tests/vm/lib.sh
. "$root/tests/vm/lib.sh"
# shellcheck source=scripts/bench/host.sh
. "$root/scripts/bench/host.sh"

out=${out:-$(mktemp -d /tmp/cz-autoswitch.XXXXXX)}
mkdir -p "$out" || die "cannot create $out"
cleanup() {
	"$czctl" zone down --force $ZONE > /dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT

# zone_file MODE: the zone for MODE
zone_file() {
	echo "name: $ZONE"
	echo "kernel: $kernel"
	echo "cpus: 2"
	echo "memory: 512M"
	echo "host_cpus: 0"
	case "$1" in
	fair) ;;
	scx_mutex) echo "scheduler: {name: scx_mutex, args: [--lc-comm, cz-rr]}" ;;
	auto) [ $AUTO_DEFAULT = fair ] || echo "scheduler: {name: $AUTO_DEFAULT}" ;;
	*) echo "scheduler: {name: $1}" ;;
	esac
	echo "services:"
	echo "  - name: rr"
	echo "    command: [cz-rr, server, \"7000\", --spin-us, \"200\"]"
	echo "    ports: [\"$PORT:7000\"]"
	if [ "$1" = auto ]; then
		echo "auto:"
		echo "  min_interval: 5s"
		echo "  rules:"
		echo "    - name: busy"
		echo "      when: $AUTO_RULE"
		echo "      for: 3s"
		echo "      scheduler: ${AUTO_BUSY%%,*}"
		case "$AUTO_BUSY" in *args:*) echo "      args: ${AUTO_BUSY#*args: }" ;; esac
	fi
}

# run MODE: the four phases, raw latencies in $out/MODE.N.raw
run() {
	zone_file "$1" > "$out/$1.yaml"
	"$czctl" zone up "$out/$1.yaml" > "$out/up.out" 2>&1 || {
		cat "$out/up.out" >&2
		die "zone up ($1) failed"
	}
	sleep 3
	if [ "$1" = auto ]; then
		"$czctl" zone profile $ZONE --duration $((4 * phase + 8)) \
			--out "$out/auto-profile" > /dev/null 2>&1 &
		prof=$!
	fi
	n=1
	for kind in light heavy light heavy; do
		if [ $kind = heavy ]; then
			"$czctl" zone exec $ZONE -- sh -c \
				"stress-ng --cpu 4 --timeout ${phase}s --quiet > /dev/null 2>&1 &"
			gap=0
		else
			gap=20000
		fi
		taskset -c 1 "$rr" client 127.0.0.1 $PORT --duration "$phase" \
			--gap-us $gap --raw "$out/$1.$n.raw" > /dev/null ||
			die "the client failed ($1, phase $n)"
		# The hogs end with the phase; make sure before the next.
		"$czctl" zone exec $ZONE -- sh -c 'kill $(pidof stress-ng) 2> /dev/null; true'
		n=$((n + 1))
	done
	if [ "$1" = auto ]; then
		wait $prof
		"$czctl" zone events $ZONE | grep -E ' (auto|switch) ' | sed 's/^/  /'
	fi
	"$czctl" zone down $ZONE > /dev/null 2>&1
}

# p PCT FILE...: the PCT-th percentile of the latencies (column 2), in ms
p() {
	q=$1
	shift
	cat "$@" | awk '{ print $2 }' | sort -n |
		awk -v q="$q" '{ v[NR] = $1 } END {
			if (!NR) { print "-"; exit }
			i = int(q / 100 * NR + 0.999999); if (i < 1) i = 1
			printf "%.2f\n", v[i] / 1000 }'
}

echo "== autoswitch: kernel $kernel, phases of $phase s (light, heavy, light, heavy), $(uname -r) host"
for m in $modes; do
	echo "-- $m"
	run "$m"
done

echo "p99 per phase and p50/p99 over the run (ms; requests from the host, TCG):"
printf '%-13s %9s %9s %9s %9s %9s %9s %9s\n' mode light1 heavy1 light2 heavy2 all-p50 all-p99 requests
: > "$out/table"
for m in $modes; do
	line=$(printf '%-13s %9s %9s %9s %9s %9s %9s %9s' "$m" \
		"$(p 99 "$out/$m.1.raw")" "$(p 99 "$out/$m.2.raw")" \
		"$(p 99 "$out/$m.3.raw")" "$(p 99 "$out/$m.4.raw")" \
		"$(p 50 "$out"/$m.[1-4].raw)" "$(p 99 "$out"/$m.[1-4].raw)" \
		"$(cat "$out"/$m.[1-4].raw | wc -l)")
	echo "$line"
	echo "$line" >> "$out/table"
done
if grep -q '^auto ' "$out/table" && [ "$(grep -vc '^auto ' "$out/table")" -gt 0 ]; then
	echo "auto against the best fixed mode (ratio of p99s; < 1: auto is better):"
	awk '{ for (c = 2; c <= 7; c++) v[$1, c] = $c; name[NR] = $1 }
	END {
		split("light1 heavy1 light2 heavy2 - all", label, " ")
		for (c = 2; c <= 7; c++) {
			if (c == 6) continue
			best = ""; bv = 0
			for (i = 1; i <= NR; i++)
				if (name[i] != "auto" && (best == "" || v[name[i], c] < bv)) {
					best = name[i]; bv = v[name[i], c]
				}
			printf "  %-7s auto %s, best fixed %s %s: %.2fx\n", label[c - 1],
				v["auto", c], best, bv, (bv > 0 ? v["auto", c] / bv : 0)
		}
	}' "$out/table"
fi

if [ "$plot" = yes ]; then
	{
		plot_fig latency-cdf "cz-rr request latency from the host, light and heavy phases ($phase s each)" "latency (ms)"
		for m in $modes; do
			cat "$out"/$m.[1-4].raw | awk '{ print $2 / 1000 }' | cdf_values latency-cdf "$m"
		done
	} | bench_collect "$out"
	bench_plot "$out" || exit 1
fi
[ -f "$out/auto-profile/timeline.png" ] && echo "auto's timeline: $out/auto-profile/timeline.png"
echo "raw latencies: $out"
