#!/bin/sh
# Live tunables test, run inside a Control Zone VM, against scx_central.
#
# Asserts: czctl list shows the tunable with its range and default; a value
# given at start shows in the stats reply; `czctl set` changes it in the
# next reply, in the same process (no reload), and the policy acts on it:
# under 4 CPU hogs on 3 workers the slice-expiry preemptions per second
# rise at least 3x when the slice shrinks from 20 ms to 2 ms; out-of-range
# values and unknown names are refused with exit 2 and one line, and
# change nothing;
# a value set live survives a kernel-requested restart (CPU hotplug).
. /cz/tests/lib.sh

SOCK=/var/run/scx/root/stats

echo "== live tunables on $(uname -r)"

czctl list > /tmp/l 2>&1
check "czctl list: slice_us with default and range" \
	grep -q 'slice_us=20000 \[1, 10000000\]' /tmp/l

# slice_us in a fresh stats reply
slice() {
	czctl stats --json > /tmp/k.json 2>/dev/null && json_key /tmp/k.json slice_us
}

# timer_preempt per second over SECS
preempt_rate() {
	czctl stats --json > /tmp/r0.json
	sleep "$1"
	czctl stats --json > /tmp/r1.json
	a=$(json_key /tmp/r0.json timer_preempt)
	b=$(json_key /tmp/r1.json timer_preempt)
	echo $(((b - a) / $1))
}

sched_start /tmp/kn.log scx_central --slice-us 30000
wait_sock $SOCK 10
check "a value given at start is in the reply ($(slice))" [ "$(slice)" = 30000 ]
sched_stop

stress-ng --cpu 4 -q &
HOGS=$!
sched_start /tmp/kn.log scx_central
wait_sock $SOCK 10
pid0=$SCHED_PID
check "default in the reply ($(slice))" [ "$(slice)" = 20000 ]
sleep 1
r20=$(preempt_rate 4)

czctl set slice_us=2000 > /tmp/o 2> /tmp/e
rc=$?
check "set slice_us=2000: exit 0 (got $rc), says old -> new ($(cat /tmp/o))" \
	sh -c "[ $rc -eq 0 ] && grep -qx 'slice_us: 20000 -> 2000' /tmp/o && [ ! -s /tmp/e ]"
check "the next reply has it ($(slice))" [ "$(slice)" = 2000 ]
check "the loader logged the change" grep -q 'tunable slice_us: 20000 -> 2000' /tmp/kn.log
sleep 1
r2=$(preempt_rate 4)
check "slice 20 ms -> 2 ms: slice-expiry preemptions/s rise >= 3x ($r20 -> $r2)" \
	[ "$r2" -ge $((r20 * 3)) -a "$r2" -gt 0 ]
check "same process, not reloaded" [ "$SCHED_PID" = "$pid0" ] && kill -0 "$SCHED_PID"

for bad_set in 'slice_us=0' 'slice_us=10000001' 'nope=1' 'slice_us=abc' 'slice_us'; do
	czctl set "$bad_set" > /tmp/o 2> /tmp/e
	rc=$?
	check "set $bad_set: exit 2 (got $rc), one line: $(head -c 120 /tmp/e)" \
		sh -c "[ $rc -eq 2 ] && [ \$(wc -l < /tmp/e) -eq 1 ] && [ ! -s /tmp/o ]"
done
czctl set slice_us=0 2> /tmp/e
check "the range error names the range" grep -q 'slice_us: 0 is out of range \[1, 10000000\]' /tmp/e
czctl set nope=1 2> /tmp/e
check "the unknown-name error lists the known ones" grep -q 'unknown tunable "nope" (known: slice_us)' /tmp/e
check "refused values changed nothing ($(slice))" [ "$(slice)" = 2000 ]

LAST=$(($(nproc) - 1))
if [ -w /sys/devices/system/cpu/cpu$LAST/online ]; then
	czctl set slice_us=7000 > /dev/null
	n0=$(grep -c 're-attaching' /tmp/kn.log)
	echo 0 > /sys/devices/system/cpu/cpu$LAST/online
	sleep 2
	echo 1 > /sys/devices/system/cpu/cpu$LAST/online
	sleep 2
	wait_state enabled 20
	i=0
	while [ -z "$(slice)" ] && [ $i -lt 100 ]; do
		sleep 0.2
		i=$((i + 1))
	done
	check "hotplug: re-attached" [ "$(grep -c 're-attaching' /tmp/kn.log)" -gt "$n0" ]
	check "hotplug: the live value survived the restart ($(slice))" [ "$(slice)" = 7000 ]
fi

sched_stop
rc=$?
check "clean exit (got $rc)" [ $rc -eq 0 ]
kill "$HOGS" 2>/dev/null
wait "$HOGS" 2>/dev/null
summary
