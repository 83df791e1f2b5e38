#!/bin/sh
# scx_user behaviour test, run inside a Control Zone VM (4 vCPUs).
#
# Asserts that the policy really runs in user space and that nothing waits
# for it beyond its bounds, from the scheduler's own stats and sched_ext's
# sysfs: bad options (an unknown policy, out-of-range tunables) exit 2 and
# attach nothing; 30 s of stress-ng on every CPU plus a hackbench loop run
# to the end with the scheduler enabled, and the policy decided nearly
# every task (user_run, no fallback by timeout or lack of room, fb_stalled
# under 1%), with the round trip reported; a tunable set live shows in the
# next stats reply; SIGSTOP of the loader for 5 s under load: the fallback
# queue runs tasks (a CPU-bound job finishes meanwhile, fb_stalled grows),
# the kernel keeps the scheduler, and after SIGCONT the policy decides
# again; the lc policy serves a nice-15 cyclictest in its task set ahead
# of 2 hogs per CPU: over 2x the wakeups the vtime policy gives it, and a
# 99th percentile latency below half of vtime's, same boot; SIGINT: exit 0
# and the exit report; SIGKILL: the fair class within 5 s.
. /cz/tests/lib.sh

NCPU=$(nproc)
LOAD_SECS=${LOAD_SECS:-30}

echo "== scx_user on $(uname -r), $NCPU CPUs"

check_bad_args scx_user "--policy nope" "--slice-us 0" "--lc-pct 0" \
	"--stall-ms 5" "--max-wait-ms 20001" "--no-such-option"

# last LOG KEY: KEY in the last per-interval JSON line of LOG
last() { grep -v '"total":true' "$1" | grep '^{' | tail -n1 | grep -o "\"$2\":[0-9]*" | cut -d: -f2; }

# --- stress + hackbench: decided in user space, nothing stalls ---
if ! sched_start /tmp/user.log scx_user --json; then
	bad "scx_user did not become enabled"
	cat /tmp/user.log
	summary
	exit 1
fi
ok "enabled"
check "root/ops is 'user'" [ "$(scx_ops)" = user ]
under_load scx_user "$LOAD_SECS"
czctl set lc_pct=50 > /dev/null 2>&1
czctl stats --json > /tmp/ust.json 2>/dev/null
check "czctl set lc_pct=50: in the next stats reply ($(json_key /tmp/ust.json lc_pct))" \
	[ "$(json_key /tmp/ust.json lc_pct)" = 50 ]
sched_stop
rc=$?
check "SIGINT: loader exits 0 (got $rc)" [ $rc -eq 0 ]
check "SIGINT: exit report names the reason" \
	grep -q 'exit: unregistered from user space' /tmp/user.log
run=$(json_total /tmp/user.log user_run)
tout=$(json_total /tmp/user.log fb_timeout)
full=$(json_total /tmp/user.log fb_full)
stl=$(json_total /tmp/user.log fb_stalled)
check "the policy decided the tasks (user_run $run)" [ "${run:-0}" -gt 5000 ]
check "no fallback by timeout or lack of room (fb_timeout $tout, fb_full $full)" \
	[ "${tout:-1}" -eq 0 -a "${full:-1}" -eq 0 ]
check "fallback while the loader started up under 1% (fb_stalled $stl of $run)" \
	[ "$((${stl:-999999} * 100))" -lt "${run:-0}" ]
p50=$(json_sum /tmp/user.log rtt_p50_us)
check "the round trip is reported (rtt_p50_us summed over lines: $p50)" [ "${p50:-0}" -gt 0 ]

# --- SIGSTOP the loader under load: the fallback runs tasks ---
sched_start /tmp/user2.log scx_user --json
stress-ng --cpu "$NCPU" -t 20 -q &
HOGS=$!
sleep 2
kill -STOP "$SCHED_PID"
t0=$(date +%s)
stress-ng --cpu 1 --cpu-ops 200 -q
job=$?
t1=$(date +%s)
sleep $((5 - (t1 - t0) > 0 ? 5 - (t1 - t0) : 0))
check "SIGSTOP: a CPU-bound job finished while the policy was stopped (exit $job, $((t1 - t0)) s)" \
	[ $job -eq 0 ]
check "SIGSTOP: the kernel kept the scheduler for 5 s" [ "$(scx_state)" = enabled ]
kill -CONT "$SCHED_PID"
sleep 4
check "SIGCONT: loader running, scheduler enabled" \
	sh -c "kill -0 $SCHED_PID && [ \"\$(cat $SCX/state)\" = enabled ]"
stl=$(json_sum /tmp/user2.log fb_stalled)
check "SIGSTOP: the fallback ran the tasks (fb_stalled $stl)" [ "${stl:-0}" -gt 100 ]
# In the last second: decisions, and no task left to the fallback.
set -- "$(last /tmp/user2.log user_run)" "$(last /tmp/user2.log fb_stalled)" \
	"$(last /tmp/user2.log stalled)"
check "SIGCONT: the policy decides again (last second: user_run $1, fb_stalled $2, stalled $3)" \
	[ "${1:-0}" -gt 0 -a "$2" = 0 -a "$3" = 0 ]
kill $HOGS 2>/dev/null
wait $HOGS 2>/dev/null
sched_stop

# --- lc policy: a latency-critical cyclictest ahead of hogs ---
# lat_under POLICY ARGS...: "WAKEUPS P50 P99" of a cyclictest at nice 15
# next to 2 hogs per CPU for 6 s, under scx_user ARGS: how many wakeups it
# got (of 6000 asked for) and their latency (us). The vtime policy gives
# it its weight's share (1/28 of a hog's): it is held back, a burst of
# prompt wakeups now and then, so its median swings from run to run; the
# lc policy runs it first. timeout (not niced) ends a starved run.
lat_under() {
	sched_start /tmp/user3.log scx_user "$@" || { echo "0 ? ?"; return; }
	stress-ng --cpu $((2 * NCPU)) -q &
	HOGS=$!
	sleep 1
	timeout -s INT 10 sh -c 'renice -n 15 -p $$ > /dev/null
		exec cyclictest -q --policy=other -i 1000 -D 6 -h 100000' > /tmp/cyc.hist 2>/dev/null
	kill $HOGS
	wait $HOGS 2>/dev/null
	sched_stop > /dev/null
	echo "$(awk "$HIST_AWK"' END { print tot + 0 }' /tmp/cyc.hist)" \
		"$(hist_pct /tmp/cyc.hist 50 99 | tr -d '>')"
}
set -- $(lat_under --policy vtime) $(lat_under --policy lc --lc-comm cyclictest)
check "lc policy: a nice-15 cyclictest woke $4 times (p50 $5 us), over 2x the $1 (p50 $2 us) of the vtime policy" \
	[ "$4" -gt $((2 * $1)) ]
# A vtime run that starved it entirely has no percentile to compare.
check "lc policy: its p99 $6 us, below half the vtime policy's $3 us ($1 wakeups)" \
	awk -v a="$6" -v b="$3" -v n="$1" 'BEGIN { exit !(a > 0 && (n == 0 || a * 2 < b)) }'

# --- SIGKILL: the kernel falls back to the fair class ---
check_sigkill scx_user

summary
