#!/bin/sh
#
# peers.sh: each of our schedulers as a general-purpose scheduler, next to
# the fair class and the kernel's own examples (tools/sched_ext scx_simple
# and scx_central of the zone kernel's version, built by
# scripts/build-kernel-examples), in one Control Zone VM boot.
#
#   scripts/bench/peers.sh [--kernel V] [--smp SPEC] [--reps N]
#                          [--duration SECS] [--loops N] [--scheds "S ..."]
#                          [--plot [--out DIR]]
#
# Schedulers (--scheds, default all): fair, kernel:scx_simple,
# kernel:scx_central, kernel:scx_userland, scx_central, scx_mutex,
# scx_avxfreq, scx_netaware, scx_user (its vtime policy), scx_user:lc (its
# lc policy with cyclictest in the latency-critical set).
# Per scheduler and repetition (default 3; the repetitions interleave: each
# runs every scheduler once, starting one further along the list):
#   attach   stress-ng --cpu NPROC started, then the scheduler: seconds
#            until sched_ext is enabled (load, verify, attach under load)
#   wakeup   cyclictest -i 1000 --policy=other -D SECS (default 20), a
#            timer-woken SCHED_OTHER thread, next to those hogs: p50, p99,
#            p99.9 (us)
#   hackbench  hackbench -g 4 -l N (default 600) without the hogs: seconds
#   BPF ns/call  run_time_ns / run_cnt summed over the loader's BPF
#            programs (kernel.bpf_stats_enabled, /proc/PID/fdinfo), over
#            the wakeup phase (with hogs) and over hackbench; BPF timer
#            callbacks are not counted by the kernel
# Printed: a line per run, then per scheduler the median and range of each
# measure over the repetitions, and the medians' ratios to the fair class
# and to the kernel's counterpart (scx_central: the kernel's scx_central;
# scx_user: the kernel's scx_userland; the others: the kernel's
# scx_simple). --plot draws the wakeup latency CDF
# per scheduler over all repetitions (timer-wakeup.png, .svg in DIR, by
# default a new directory in /tmp). Our schedulers run with their
# defaults, as a new user would start them. A benchmark, not a test: it
# asserts nothing; under TCG compare the rows of one boot.

if [ "${1:-}" != --guest ]; then
	# shellcheck source=scripts/bench/host.sh
	. "$(dirname "$0")/host.sh"
	vm='' reps=3 dur=20 loops=600
	all="fair kernel:scx_simple kernel:scx_central kernel:scx_userland scx_central scx_mutex scx_avxfreq scx_netaware scx_user scx_user:lc"
	scheds=$all
	kernel=$(grep -vE '^\s*(#|$)' "$bench_root/vmconfigs/kernels" | head -n1 | cut -d. -f1-2)
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) kernel=${2:-}; shift 2 ;;
		--smp) vm="$vm $1 ${2:-}"; shift 2 ;;
		--reps) reps=${2:-}; shift 2 ;;
		--duration) dur=${2:-}; shift 2 ;;
		--loops) loops=${2:-}; shift 2 ;;
		--scheds) scheds=${2:-}; shift 2 ;;
		--plot) BENCH_PLOT=yes; shift ;;
		--out) BENCH_OUT=${2:-}; shift 2 ;;
		*) bench_die "usage: peers.sh [--kernel V] [--smp SPEC] [--reps N] [--duration SECS] [--loops N] [--scheds \"S ...\"] [--plot [--out DIR]]" ;;
		esac
	done
	[ -n "$scheds" ] || bench_die "--scheds: name at least one of: $all"
	for s in $scheds; do
		case " $all " in *" $s "*) ;; *) bench_die "--scheds: '$s' is not one of: $all" ;; esac
	done
	bench_count --reps "$reps"
	bench_count --duration "$dur"
	bench_count --loops "$loops"
	kex=$("$bench_root/scripts/build-kernel-examples" "$kernel") || {
		echo "peers.sh: the kernel's examples for $kernel could not be built (above)" >&2
		exit 1
	}
	bench_exec no "$vm --kernel $kernel --add $kex:/cz/peers" "" "$reps" "$dur" "$loops" "$scheds"
fi

# shellcheck source=tests/vm/lib.sh
. "${CZ_LIB:-/cz/tests/lib.sh}"
reps=$2 dur=$3 loops=$4 SCHEDS=$5
bench_setup
NCPU=$(nproc)
HOGS= SCHED_PID=
AT_EXIT='kill $HOGS $SCHED_PID 2>/dev/null; wait'
echo 1 > /proc/sys/kernel/bpf_stats_enabled ||
	{ echo "kernel.bpf_stats_enabled cannot be set"; exit 1; }

now() { cut -d' ' -f1 /proc/uptime; }

# bpf_use PID: "run_time_ns run_cnt" summed over the BPF programs PID holds
bpf_use() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null |
		awk '$1 == "run_time_ns:" { t += $2 } $1 == "run_cnt:" { c += $2 }
		END { printf "%.0f %.0f\n", t, c }'
}
# per_call "T0 C0" "T1 C1": ns per call between two bpf_use readings
per_call() {
	echo "$1 $2" | awk '{ c = $4 - $2; if (c > 0) printf "%.0f\n", ($3 - $1) / c; else print "-" }'
}

# one NAME REP: a run; appends "NAME REP attach p50 p99 p99.9 hack bpf_hogs
# bpf_hack" to $TMP/rows and prints it readably
one() {
	name=$1 rep=$2
	stress-ng --cpu "$NCPU" -q &
	HOGS=$!
	sleep 1
	attach=- bw=- bh=-
	if [ "$name" != fair ]; then
		case "$name" in	# kernel:NAME is the kernel's example, NAME ours
		kernel:*) cmd=/cz/peers/${name#kernel:} ;;
		scx_user:lc) cmd="scx_user --policy lc --lc-comm cyclictest" ;;
		*) cmd=$name ;;
		esac
		t0=$(now)
		# shellcheck disable=SC2086 # $cmd: the command and its options
		$cmd > "$TMP/sched.log" 2>&1 &
		SCHED_PID=$!
		if ! wait_state enabled 90; then
			echo "$name (rep $rep) did not attach within 90 s:"
			tail -n 5 "$TMP/sched.log"
			kill $HOGS $SCHED_PID 2>/dev/null
			wait
			HOGS= SCHED_PID=
			return
		fi
		attach=$(echo "$t0 $(now)" | awk '{ printf "%.2f\n", $2 - $1 }')
		u0=$(bpf_use $SCHED_PID)
	fi
	cyclictest -q --policy=other -i 1000 -D "$dur" -h 100000 > "$TMP/hist.$name.$rep" 2> /dev/null
	[ -z "$SCHED_PID" ] || { u1=$(bpf_use $SCHED_PID); bw=$(per_call "$u0" "$u1"); }
	kill $HOGS
	wait $HOGS 2> /dev/null
	HOGS=
	hack=$(hackbench -g 4 -l "$loops" 2> /dev/null | sed -n 's/^Time: //p')
	if [ -n "$SCHED_PID" ]; then
		u2=$(bpf_use $SCHED_PID)
		bh=$(per_call "$u1" "$u2")
		[ "$(scx_ops)" != none ] || echo "$name (rep $rep): sched_ext was disabled during the run"
		sched_stop > /dev/null
		SCHED_PID=
	fi
	set -- $(hist_pct "$TMP/hist.$name.$rep" 50 99 99.9)
	echo "$name $rep $attach $1 $2 $3 ${hack:--} $bw $bh" >> "$TMP/rows"
	printf '  %-20s rep %d: attach %5s s, wakeup p50/p99/p99.9 %s/%s/%s us, hackbench %s s, BPF ns/call %s (hogs) %s (hackbench)\n' \
		"$name" "$rep" "$attach" "$1" "$2" "$3" "${hack:--}" "$bw" "$bh"
}

echo "# kernel $(uname -r), $NCPU CPUs; kernel examples: linux-source $(cat /cz/peers/source-version 2>/dev/null || echo '?'); $reps repetitions, interleaved"
echo "# wakeup: cyclictest -i 1000 --policy=other -D $dur next to stress-ng --cpu $NCPU; hackbench -g 4 -l $loops alone"
: > "$TMP/rows"
r=1
while [ $r -le "$reps" ]; do
	# Repetition r starts r-1 places further along the list.
	for s in $(echo $SCHEDS | awk -v r=$r '{ for (i = 0; i < NF; i++) printf "%s ", $((i + r - 1) % NF + 1) }'); do
		one "$s" $r
	done
	r=$((r + 1))
done

# The summary: medians, ranges, ratios. Columns of $TMP/rows from 3 on.
echo "median (min-max) over $reps repetitions:"
printf '%-20s %-19s %-19s %-19s %-19s %-19s %-19s %-19s\n' scheduler attach_s \
	wakeup_p50_us wakeup_p99_us wakeup_p99.9_us hackbench_s bpf_ns_hogs bpf_ns_hack
awk -v scheds="$SCHEDS" '
function med(name, c,   n, i, j, t) {
	n = 0
	split("", v)	# v: the values of the median at hand (a global: busybox awk)
	for (i = 1; i <= rows; i++)
		if (nm[i] == name && col[i, c] != "-" && col[i, c] !~ /^>/) v[++n] = col[i, c] + 0
	if (!n) return "-"
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	lo[name, c] = v[1]; hi[name, c] = v[n]
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function ratio(a, b) { return (a == "-" || b == "-" || b + 0 == 0) ? "-" : sprintf("%.2f", a / b) }
{ rows++; nm[rows] = $1; for (c = 3; c <= NF; c++) col[rows, c] = $c }
END {
	k = split(scheds, s, " ")
	for (i = 1; i <= k; i++) {
		line = sprintf("%-20s", s[i])
		for (c = 3; c <= 9; c++) {
			m[s[i], c] = med(s[i], c)
			cell = m[s[i], c] == "-" ? "-" : sprintf("%g (%g-%g)", m[s[i], c], lo[s[i], c], hi[s[i], c])
			line = line sprintf(" %-19s", cell)
		}
		print line
	}
	print ""
	print "ratios of medians: to fair (p50, p99, hackbench) and to the kernel counterpart (attach, p99, hackbench, BPF ns/call hogs, hackbench):"
	printf "%-20s %8s %8s %8s   %-20s %8s %8s %8s %8s %8s\n", "scheduler", "p50/f", "p99/f", "hack/f", "counterpart", "attach", "p99", "hack", "bpf_hog", "bpf_hack"
	for (i = 1; i <= k; i++) {
		if (s[i] == "fair") continue
		cp = s[i] ~ /^kernel:/ ? "-" : (s[i] == "scx_central" ? "kernel:scx_central" : (s[i] ~ /^scx_user/ ? "kernel:scx_userland" : "kernel:scx_simple"))
		printf "%-20s %8s %8s %8s   %-20s", s[i], ratio(m[s[i], 4], m["fair", 4]),
			ratio(m[s[i], 5], m["fair", 5]), ratio(m[s[i], 7], m["fair", 7]), cp
		if (cp == "-") { print ""; continue }
		printf " %8s %8s %8s %8s %8s\n", ratio(m[s[i], 3], m[cp, 3]), ratio(m[s[i], 5], m[cp, 5]),
			ratio(m[s[i], 7], m[cp, 7]), ratio(m[s[i], 8], m[cp, 8]), ratio(m[s[i], 9], m[cp, 9])
	}
}' "$TMP/rows"

plot_fig timer-wakeup "cyclictest -i 1000 --policy=other next to stress-ng --cpu $NCPU, $reps x $dur s per scheduler, $(uname -r)" "wakeup latency (us)"
for s in $SCHEDS; do
	ls "$TMP"/hist."$s".* > /dev/null 2>&1 || continue
	cat "$TMP"/hist."$s".* > "$TMP/all"
	cdf_hist timer-wakeup "$s" "$TMP/all"
done
