#!/bin/sh
# scx_netaware test, run inside a Control Zone VM.
#
# Set-up: namespaces cz-srv and cz-cli joined by a veth pair, a cz-rr
# server in cz-srv, its client in cz-cli, two stress-ng --cpu hogs, all on
# CPUs 0-1.
# Asserts: bad input exits 2 with one line and attaches nothing; timer-woken
# tasks and the hogs are not classified net-woken, the server's and
# client's wakeups are; a timer-woken sleeper sharing its CPU with a hog
# wakes within half a slice at the median, by wake preemption; nearly every net-woken wakeup gets a CPU at once
# (handed the RX CPU or preempting a hog); p99 request latency under
# scx_netaware is lower than the default fair scheduler's in the same
# boot (the criterion: the ratio depends on the host, 0.26-0.38x
# in eight rounds of one 7.3 boot here, 0.51x in a CI run where fair's
# p50 was 0.9 ms instead of 3 ms, which failed an earlier "at most half"
# bound), and its p90 at most twice fair's: the body is not given up for
# the tail. Only a coarse bound holds under TCG, where every switch of a
# BPF scheduler costs more than one of the fair class (the medians: fair
# 0.7 ms to scx_netaware's 1.1 ms on 6.16 here); fair's p90 ranged 0.8-5.1
# ms, scx_netaware's came to 1.04x it. A server that spins after each
# request loses its boost: its boosts are revoked, and boosted time per
# wakeup is a small part of the 50 ms it runs (a tight bound is not
# measurable under TCG, whose vCPUs the host deschedules for
# milliseconds); a task added to set "net" at run time (czctl add) is
# net-woken whatever wakes it.
# In detail: scx_netaware runs with --boost-us 2000 (below); timer-woken
# tasks and the hogs are net-woken for at most 2% of their wakeups, the
# request/response traffic for at least one wakeup per request, and those
# wakeups are boosted; at least 90% of the net-woken wakeups get a CPU at
# once; the spinning server (50 ms per request) has every boosted spin
# revoked (the boosts of the client and of the server's accept and end of
# connection are counted out), and its boosted time per wakeup is at most
# a quarter of those 50 ms.
#
# Why two CPUs of four: the host has two cores. With hogs on all four
# vCPUs the host time-shares them, and its descheduling (milliseconds at a
# time) set both schedulers' p99 (fair vs scx_netaware, 6.16: 13.7 vs 10.2
# ms); confined to two vCPUs the test measures the guest's scheduler (1.8
# vs 8.1 ms).
. /cz/tests/lib.sh

SOCK=/var/run/scx/root/stats
CPUS=0-1		# the experiment's CPUs (see above)
NR_HOGS=2
T="taskset -c $CPUS"
COUNT=1000		# requests per latency run
GAP_US=2000		# client sleep between requests
SPIN_US=50000		# CPU the spinning server burns per request
SPIN_BOOST_US=1000	# boost_us while it runs
# Under TCG the guest's kernel code runs ~10x slower than on hardware: a
# 200 us boost (the default) runs out inside one send or receive and
# revokes nearly every boost (measured: 503 of 554), so the latency phase
# uses ten times the default.
BOOST_US=2000

echo "== scx_netaware on $(uname -r)"

# --- bad input: exit 2, one line, nothing attached ---
check_bad_args scx_netaware "--boost-us 0" "--boost-pct 101" "--slice-us x" \
	"--bogus" "--net-pid 999999" "--net-cgroup /nonexistent"

if ! netns_pair; then
	bad "veth pair between two namespaces could not be set up"
	summary
	exit 1
fi
$T $IP netns exec $NETNS_SRV cz-rr server 5000 &
SRV=$!
$T $IP netns exec $NETNS_SRV cz-rr server 5001 --spin-us $SPIN_US &
SPIN=$!

# rr OUT COUNT: a latency run from cli to the server; p99, p90 in $P99, $P90
rr() {
	$T $IP netns exec $NETNS_CLI cz-rr client $NS_SRV 5000 --count "$2" \
		--gap-us $GAP_US > "$1" 2>&1
	P99=$(sed -n 's/.* p99_us \([0-9]*\) .*/\1/p' "$1")
	P90=$(sed -n 's/.* p90_us \([0-9]*\) .*/\1/p' "$1")
}

# na_stat KEY: KEY's total since attach, from the stats socket
na_stat() {
	czctl stats --json > /tmp/na.json 2>/dev/null && json_key /tmp/na.json "$1"
}

rr /tmp/warm.txt 100	# first connection, ARP, page cache: not measured
$T stress-ng --cpu $NR_HOGS -q &
HOGS=$!
sleep 1

rr /tmp/fair.txt $COUNT
fair=$P99 fair90=$P90
echo "fair:     $(cat /tmp/fair.txt)"

if ! sched_start /tmp/na.log scx_netaware --json --boost-us $BOOST_US; then
	bad "scx_netaware did not become enabled"
	cat /tmp/na.log
else
	wait_sock $SOCK 10

	# Timer wakeups, no traffic: nothing net-woken.
	w0=$(na_stat wakeups) n0=$(na_stat net_woken)
	cyclictest -q --policy=other -t 1 -i 2000 -D 2 > /dev/null 2>&1
	w1=$(na_stat wakeups) n1=$(na_stat net_woken)
	check "timer-woken tasks and hogs: $((n1 - n0)) of $((w1 - w0)) wakeups net-woken (<= 2%)" \
		[ $((w1 - w0)) -ge 100 -a $(((n1 - n0) * 50)) -le $((w1 - w0)) ]

	# A timer-woken sleeper sharing its CPU with a hog: owed a slice, it
	# preempts the hog rather than wait the 5 ms slice out.
	sleeper_next_to_hog 1 na_stat
	check "a timer-woken sleeper next to a hog on its CPU: median wakeup $S50 us < 2500 us (half a slice), $PREEMPTS wake preemptions" \
		[ "${S50#>}" -lt 2500 -a "$PREEMPTS" -gt 0 ]

	rr /tmp/na.txt $COUNT
	na=$P99 na90=$P90
	echo "netaware: $(cat /tmp/na.txt)"
	n2=$(na_stat net_woken) b2=$(na_stat boosted) p2=$(na_stat preempt)
	x2=$(na_stat rx_local)
	check "request/response: $((n2 - n1)) net-woken wakeups for $COUNT requests (>= $COUNT)" \
		[ $((n2 - n1)) -ge $COUNT ]
	check "net-woken wakeups were boosted ($((b2)) boosts)" [ "$b2" -ge $COUNT ]
	check "net-woken wakeups got a CPU at once: $x2 on the RX CPU + $p2 preempting a hog >= 90% of $n2" \
		[ $(((x2 + p2) * 10)) -ge $((n2 * 9)) ]
	# Both bounds imply fair's figure > 0 once scx_netaware's is.
	check "p90 request latency under hogs: netaware ${na90} us <= 2 x fair ${fair90} us" \
		[ "${na90:-0}" -gt 0 -a "${na90:-0}" -le $((${fair90:-0} * 2)) ]
	ratio=$(awk -v n="${na:-0}" -v f="${fair:-0}" 'BEGIN { if (f > 0) printf "%.2fx", n / f; else print "-" }')
	check "p99 request latency under hogs: netaware ${na} us < fair ${fair} us ($ratio)" \
		[ "${na:-0}" -gt 0 -a "${na:-0}" -lt "${fair:-0}" ]

	# A task that receives packets, then spins 50 ms: the boost is bounded.
	czctl set boost_us=$SPIN_BOOST_US > /dev/null
	r0=$(na_stat boost_revoked) u0=$(na_stat boost_run_us) c0=$(na_stat boosted)
	l0=$(na_stat boost_late)
	$T $IP netns exec $NETNS_CLI cz-rr client $NS_SRV 5001 --count 20 --gap-us $GAP_US \
		> /tmp/spin.txt 2>&1
	r1=$(na_stat boost_revoked) u1=$(na_stat boost_run_us) c1=$(na_stat boosted)
	l1=$(na_stat boost_late)
	echo "spinning server: $(cat /tmp/spin.txt)"
	echo "  boosts $((c1 - c0)), revoked $((r1 - r0)), late $((l1 - l0)), boosted $((u1 - u0)) us ($(((u1 - u0) / (c1 - c0 + 1))) us a boost), longest ever $(na_stat boost_max_us) us"
	# Boosts: the client's, one at connect and one per reply (it sleeps
	# while the server spins); the server's short runs after accept and at
	# the end of the connection; the server's spins, each of which must be revoked (a
	# request that finds the server still runnable, between its reply and
	# its next receive, wakes nothing and brings no boost). How many of
	# the 20 requests wake the server varies with the host's timing: 9
	# to 15 in the runs of 2026-12-07; at least 5 are needed for the
	# check to mean something.
	spins=$((c1 - c0 - 21 - 2))
	check "spinning server: its boosted spins are revoked ($((r1 - r0)) >= $spins, of 20 requests; at least 5)" \
		[ $spins -ge 5 -a $((r1 - r0)) -ge $spins ]
	# Measured in wall time, which includes the host descheduling the TCG
	# vCPU (commonly ms, at times up to a second); without the bound every
	# boost would last the whole 50 ms.
	check "boosted time per wakeup $(((u1 - u0) / (c1 - c0 + 1))) us <= 1/4 of the $SPIN_US us the server runs per wakeup" \
		[ $(((u1 - u0) / (c1 - c0 + 1) * 4)) -le $SPIN_US ]

	# The operator override: a timer-woken task in set net is net-woken.
	czctl add net-comm=cyclictest > /tmp/add.out 2>&1
	check "czctl add net-comm=cyclictest: exit 0 ($(head -c 100 /tmp/add.out))" [ $? -eq 0 ]
	n3=$(na_stat net_woken)
	cyclictest -q --policy=other -t 1 -i 2000 -D 1 > /dev/null 2>&1
	n4=$(na_stat net_woken)
	check "--net-comm override: cyclictest's wakeups net-woken ($((n4 - n3)) >= 50)" \
		[ $((n4 - n3)) -ge 50 ]

	sched_stop
	rc=$?
	check "clean exit (got $rc)" [ $rc -eq 0 ]
fi

kill "$HOGS" "$SRV" "$SPIN" 2>/dev/null
wait "$HOGS" "$SRV" "$SPIN" 2>/dev/null
netns_unpair
summary
