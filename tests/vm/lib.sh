# Helpers for scripts that run inside a Control Zone VM (busybox sh):
# starting and stopping a scheduler, reading sched_ext state, percentiles
# from a cyclictest histogram, and test assertions with a pass/fail count.
#
# Sourced, not executed. Tests and benchmarks use the same helpers so a
# measurement means the same thing in both; benchmarks also source it
# natively (scripts/bench --native), so nothing here may need the zone
# image where a system's own tool does the same.

SCX=/sys/kernel/sched_ext
CZ_PASS=0
CZ_FAIL=0

scx_state() { cat $SCX/state 2>/dev/null || echo none; }
scx_ops() { cat $SCX/root/ops 2>/dev/null || echo none; }

# wait_state STATE SECS: poll until sched_ext reaches STATE.
wait_state() {
	i=0
	while [ "$(scx_state)" != "$1" ]; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# sched_start LOGFILE CMD...: start a scheduler in the background with JSON
# stats into LOGFILE; sets SCHED_PID. Fails unless it becomes enabled.
sched_start() {
	log=$1
	shift
	"$@" > "$log" 2>&1 &
	SCHED_PID=$!
	wait_state enabled 20
}

# sched_stop: SIGINT the scheduler, wait for it; returns its exit status.
sched_stop() {
	kill -INT "$SCHED_PID" 2>/dev/null
	wait "$SCHED_PID"
}

# The awk that reads a cyclictest -h histogram: cnt[us] samples, max the
# highest bucket, tot every sample with the overflows, for an END block.
# Leading zeros are stripped: busybox awk takes 00017 for octal.
HIST_AWK='
	function num(s) { sub(/^0+/, "", s); return s == "" ? 0 : s + 0 }
	/^#/ { if ($0 ~ /Histogram Overflows/) tot += num($NF); next }
	NF >= 2 { n = num($1); c = num($2); cnt[n] += c; tot += c; if (n > max) max = n }'

# hist_pct FILE P...: percentiles (in us) of a cyclictest -h histogram.
# sleeper_p50 CPU: median wakeup latency (us) of a 1 kHz timer-woken
# SCHED_OTHER sleeper on CPU over 3 s (cyclictest); ">N" past the histogram.
sleeper_p50() {
	taskset -c "$1" cyclictest -q --policy=other -i 1000 -D 3 -h 100000 \
		> /tmp/lat.hist 2>/dev/null
	hist_pct /tmp/lat.hist 50
}

# sleeper_next_to_hog CPU STAT: a busy loop and sleeper_p50's sleeper on
# CPU; sets S50 (the sleeper's median wakeup, us) and PREEMPTS (how much
# the scheduler's statistic wake_preempt, read by the command STAT KEY,
# grew meanwhile).
sleeper_next_to_hog() {
	taskset -c "$1" sh -c 'while :; do :; done' &
	spin=$!
	q0=$($2 wake_preempt)
	S50=$(sleeper_p50 "$1")
	q1=$($2 wake_preempt)
	kill $spin
	wait $spin 2>/dev/null
	PREEMPTS=$((q1 - q0))
}

hist_pct() {
	f=$1
	shift
	awk -v pcts="$*" "$HIST_AWK"'
	END {
		k = split(pcts, p, " ")
		out = ""
		for (i = 1; i <= k; i++) {
			need = tot * p[i] / 100; acc = 0; v = -1
			for (b = 0; b <= max; b++) { acc += cnt[b]; if (acc >= need) { v = b; break } }
			out = out (i > 1 ? " " : "") (v < 0 ? ">" max : v)
		}
		print out
	}' "$f"
}

# Latency distributions for a benchmark's --plot. A benchmark prints them
# as tab-separated lines among its output, where it measured them (in a
# zone they cross the console); its host side takes them out of the
# output (scripts/bench/host.sh: bench_collect) and draws one CDF figure
# per FIG, a line per SERIES:
#   CZ-PLOT FIG TITLE XLABEL       once per figure
#   CZ-CDF  FIG SERIES VALUE SHARE one point: SHARE of samples <= VALUE
# FIG is a file name; SERIES and the texts may hold spaces, not tabs.

# plot_fig FIG TITLE XLABEL: announce a figure.
plot_fig() { printf 'CZ-PLOT\t%s\t%s\t%s\n' "$1" "$2" "$3"; }

# cdf_points FIG SERIES: CZ-CDF lines from "VALUE SHARE" lines in
# ascending order. Thinned to a point per 0.2% of samples or 5% of value,
# at most some 700 lines whatever the sample count, so a distribution
# of a million samples still crosses a serial console in a moment.
cdf_points() {
	awk -v fig="$1" -v name="$2" '
	function out(v, s) { printf "CZ-CDF\t%s\t%s\t%s\t%.5f\n", fig, name, v, s }
	{
		if (n && $2 - ls < 0.002 && $1 <= lv * 1.05) { pv = $1; ps = $2; pend = 1; next }
		out($1, $2); lv = $1; ls = $2; n++; pend = 0
	}
	END { if (pend) out(pv, ps) }'
}

# cdf_values FIG SERIES: a distribution of the values on stdin, one per
# line, in any order.
cdf_values() {
	sort -n | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) print v[i], i / NR }' |
		cdf_points "$1" "$2"
}

# cdf_hist FIG SERIES FILE: the distribution in a cyclictest -h histogram
# (us). Overflows count in the total: the line then ends below 1.
cdf_hist() {
	awk "$HIST_AWK"'
	END {
		for (b = 0; b <= max; b++)
			if (cnt[b]) { acc += cnt[b]; print b, acc / tot }
	}' "$3" | cdf_points "$1" "$2"
}

# cdf_redis FIG SERIES FILE: the distribution in redis-benchmark's
# percentile list (ms): "99.900% <= 1.207 milliseconds (cumulative count
# 1998)"; the share from the counts, the last being every request. The
# list has a point per halving of the rest (50%, 75%, 87.5%, ...): the
# figure draws steps between them, never a line that claims more.
cdf_redis() {
	awk '/% <= .* milliseconds \(cumulative count/ {
		c = $NF; sub(/\)/, "", c); v[++n] = $3; k[n] = c + 0
	} END { for (i = 1; i <= n; i++) print v[i], k[i] / k[n] }' "$3" |
		sort -n | cdf_points "$1" "$2"
}

# json_sum FILE KEY: sum of KEY over the per-interval JSON stats lines.
json_sum() {
	grep -v '"total":true' "$1" | grep -o "\"$2\":[0-9]*" |
		awk -F: '{ s += $2 } END { print s + 0 }'
}

# json_total FILE KEY: KEY from the final totals line.
json_total() {
	grep '"total":true' "$1" | grep -o "\"$2\":[0-9]*" | tail -n1 | cut -d: -f2
}

# json_percpu FILE KEY: KEY's per-CPU totals, space separated.
json_percpu() {
	grep '"total":true' "$1" | grep -o "\"$2_percpu\":\[[0-9,]*\]" |
		tail -n1 | sed 's/.*\[//; s/\]//; s/,/ /g'
}

# wait_sock PATH SECS: poll until the stats socket at PATH answers.
wait_sock() {
	i=0
	while ! czctl stats --socket "$1" > /dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# json_key FILE KEY: KEY's number in the first JSON object of FILE.
json_key() { grep -o "\"$2\":[0-9.]*" "$1" | head -n1 | cut -d: -f2; }

# ---- numbers and waiting ----

# jkey FILE KEY: an integer (or null) from the JSON line in FILE.
jkey() {
	grep -o "\"$2\":[0-9a-z]*" "$1" | head -n1 | cut -d: -f2
}

# near X Y PCT: X is within PCT% of Y (awk: the values exceed 2^31).
near() {
	awk -v x="$1" -v y="$2" -v p="$3" \
		'BEGIN { d = x - y; if (d < 0) d = -d; exit !(y > 0 && d <= y * p / 100) }'
}

# le X Y / gt X Y: X <= Y, X > Y, for large integers.
le() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x <= y) }'; }
gt() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x > y) }'; }

# median: of the numbers on stdin, one a line; "?" if there are none.
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "?" }'; }

# switch_timing FILE: from `czctl switch -v`'s lines in FILE, SW_UP (s from
# the command to the new scheduler enabled) and SW_FAIR (s of that on the
# fair class: from the old scheduler's stop); empty if a line is missing.
switch_timing() {
	SW_UP=$(sed -n 's/.*enabled (ops "[^"]*", pid [0-9]*): \([0-9.]*\) s after the command$/\1/p' "$1")
	SW_FAIR=$(sed -n 's/^czctl: \[ *\([0-9.]*\) s\] [^ ]* stopped; sched_ext disabled$/\1/p' "$1" |
		awk -v up="$SW_UP" 'up != "" { printf "%.3f\n", up - $1 }')
}

# wait_line FILE TEXT PID: until TEXT appears in FILE; fails if PID exits
# first or after 120 s (loading under TCG next to hogs can take a while).
wait_line() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		kill -0 "$3" 2>/dev/null && [ $i -le 2400 ] || return 1
		sleep 0.05
	done
}

# under_load NAME SECS [CMD...]: stress-ng on every CPU for SECS, CMD (if
# any) next to it, then hackbench loops until the hogs' last 2 s; then a
# check each that both finished, that NAME is still enabled and that its
# loader ($SCHED_PID) still runs.
under_load() {
	ul_name=$1 ul_secs=$2
	shift 2
	ul_end=$(($(date +%s) + ul_secs - 2))
	stress-ng --cpu "$(nproc)" -t "$ul_secs" -q &
	ul_hogs=$!
	[ $# -eq 0 ] || "$@"
	ul_hb=0
	while [ "$(date +%s)" -lt $ul_end ]; do
		hackbench -g 2 -l 50 > /dev/null 2>&1 || bad "hackbench failed"
		ul_hb=$((ul_hb + 1))
	done
	wait $ul_hogs
	check "stress-ng finished under $ul_name" [ $? -eq 0 ]
	check "hackbench ran to completion $ul_hb times" [ $ul_hb -gt 0 ]
	check "still enabled after ${ul_secs}s of load" [ "$(scx_state)" = enabled ]
	check "loader still running" kill -0 "$SCHED_PID"
}

# check_sigkill SCHED: start SCHED, SIGKILL its loader; checks that the
# kernel disables it within 5 s and that tasks still run (the fair class).
check_sigkill() {
	sched_start "/tmp/$1.kill.log" "$1"
	kill -KILL "$SCHED_PID"
	wait "$SCHED_PID" 2>/dev/null
	check "SIGKILL: state disabled within 5 s" wait_state disabled 5
	check "SIGKILL: tasks still run (fair class)" stress-ng --cpu 1 -t 1 -q
}

ok() {
	CZ_PASS=$((CZ_PASS + 1))
	echo "PASS: $*"
}

bad() {
	CZ_FAIL=$((CZ_FAIL + 1))
	echo "FAIL: $*"
}

# check DESCRIPTION CMD...: PASS if CMD succeeds.
check() {
	d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

# check_bad_args SCHED "ARGS"...: each ARGS (split on spaces) makes SCHED
# exit 2 with its one error line first, and attaches nothing.
check_bad_args() {
	s=$1
	shift
	for args in "$@"; do
		# shellcheck disable=SC2086 # split on purpose
		$s $args > /tmp/bad.out 2>&1
		rc=$?
		check "bad option '$args': exit 2 (got $rc)" [ $rc -eq 2 ]
		check "bad option '$args': one error line first ($(head -n1 /tmp/bad.out))" \
			grep -q "^$s: \|unrecognized option" /tmp/bad.out
		check "bad option '$args': sched_ext stays disabled" [ "$(scx_state)" = disabled ]
	done
}

summary() {
	echo "$CZ_PASS passed, $CZ_FAIL failed"
	[ $CZ_FAIL -eq 0 ]
}

# load_modules: insmod the kernel modules mkinitramfs put in /cz/modules
# (veth, ...), dependencies first; loaded ones are skipped. Outside a zone
# (no /cz) there is nothing to do: the kernel loads what ip asks for.
load_modules() {
	[ -d /cz ] || return 0
	[ -f /cz/modules/order ] || { echo "no /cz/modules/order in the image"; return 1; }
	while read -r m; do
		grep -q "^$m " /proc/modules || insmod "/cz/modules/$m.ko" || return 1
	done < /cz/modules/order
}

# netns_pair: network namespaces $NETNS_SRV (address $NS_SRV) and
# $NETNS_CLI joined by a veth pair, so that traffic between them crosses a
# real network stack (veth xmit, NET_RX softirq), not loopback.
# netns_unpair removes them.
# iproute2's ip by its path in a zone: Debian's busybox sh runs its own
# applet for a bare "ip", and that one cannot name a veth peer.
IP=/cz/bin/ip
[ -x $IP ] || IP=ip
NETNS_SRV=cz-srv
NETNS_CLI=cz-cli
NS_SRV=10.99.0.1
NS_CLI=10.99.0.2
netns_pair() {
	load_modules &&
	$IP netns add $NETNS_SRV && $IP netns add $NETNS_CLI &&
	$IP link add veth-srv netns $NETNS_SRV type veth peer name veth-cli netns $NETNS_CLI &&
	$IP -n $NETNS_SRV addr add $NS_SRV/24 dev veth-srv &&
	$IP -n $NETNS_CLI addr add $NS_CLI/24 dev veth-cli &&
	$IP -n $NETNS_SRV link set lo up && $IP -n $NETNS_CLI link set lo up &&
	$IP -n $NETNS_SRV link set veth-srv up && $IP -n $NETNS_CLI link set veth-cli up
}
netns_unpair() {
	$IP netns del $NETNS_SRV 2>/dev/null
	$IP netns del $NETNS_CLI 2>/dev/null
}

# bench_setup: TMP, a new directory for a benchmark's files. At exit,
# Ctrl-C included, the commands the caller put in AT_EXIT run (so that a
# native run leaves no namespace, cgroup or server behind), then TMP goes.
bench_setup() {
	TMP=$(mktemp -d) || exit 1
	AT_EXIT=
	trap 'eval "$AT_EXIT"; rm -rf "$TMP"' EXIT
	trap 'exit 130' INT TERM
}

# cgroup2_root: where the unified cgroup hierarchy is mounted.
cgroup2_root() { awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts; }
