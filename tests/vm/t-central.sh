#!/bin/sh
# scx_central behaviour test, run inside a Control Zone VM (4 vCPUs).
#
# Asserts what the policy promises, from its own stats and from sched_ext's
# sysfs: the central CPU made every dispatch decision, every CPU ran tasks,
# slices are enforced and waking tasks preempt hogs, it survives a stress
# plus hackbench load, detaches cleanly on SIGINT, re-attaches by itself
# when CPU hotplug makes the kernel ask for a restart, the kernel falls back to
# the fair class when the loader is SIGKILLed, and bad options attach
# nothing.
# In detail: bad options exit 2 and attach nothing; root/ops is "central";
# 30 s of stress-ng on every CPU plus a hackbench loop, with cyclictest
# wakeups on the workers, run to the end with the scheduler still enabled;
# every dispatch decision was made on the central CPU, also with
# --central-cpu 2; SIGINT: exit 0 and the kernel's reason in the exit
# report; SIGKILL of the loader: sched_ext disabled within 5 s, tasks run on.
. /cz/tests/lib.sh

NCPU=$(nproc)
LOAD_SECS=${LOAD_SECS:-30}

echo "== scx_central on $(uname -r), $NCPU CPUs"

# --- bad input: exit 2, nothing attached ---
check_bad_args scx_central "--central-cpu $NCPU" "--central-cpu 999" \
	"--slice-us 0" "--slice-us 10000001" "--no-such-option" "-i 0"

# --- load, stress + hackbench, stats ---
if ! sched_start /tmp/central.log scx_central --json; then
	bad "scx_central did not become enabled"
	cat /tmp/central.log
	summary
	exit 1
fi
ok "enabled"
check "root/ops is 'central'" [ "$(scx_ops)" = central ]

# Wakeups that are owed CPU time, next to hogs: must preempt at once. Kept
# off the central CPU (cyclictest alone would pin itself to CPU 0).
wakeups() {
	cyclictest -q --policy=other -i 1000 -D 5 -a 1-$((NCPU - 1)) > /dev/null 2>&1
}
under_load scx_central "$LOAD_SECS" wakeups

sched_stop
rc=$?
check "SIGINT: loader exits 0 (got $rc)" [ $rc -eq 0 ]
check "SIGINT: state back to disabled" wait_state disabled 5
check "SIGINT: exit report names the reason" \
	grep -q 'exit: unregistered from user space' /tmp/central.log

dispatch=$(json_total /tmp/central.log dispatch)
set -- $(json_percpu /tmp/central.log dispatch)
d0=$1
check "central CPU made the dispatch decisions ($d0 of $dispatch)" \
	[ "${dispatch:-0}" -gt 1000 -a "$d0" -eq "$dispatch" ]
set -- $(json_percpu /tmp/central.log runs)
check "all $NCPU CPUs ran tasks (runs: $*)" [ $# -eq "$NCPU" ]
for r in "$@"; do
	check "  CPU ran >= 100 tasks ($r)" [ "$r" -ge 100 ]
done
tp=$(json_total /tmp/central.log timer_preempt)
wp=$(json_total /tmp/central.log wake_preempt)
check "slices enforced by the timer (timer_preempt $tp)" [ "${tp:-0}" -gt 0 ]
check "waking tasks preempted hogs (wake_preempt $wp)" [ "${wp:-0}" -gt 0 ]
check "no failed placements" [ "$(json_total /tmp/central.log move_failed)" = 0 ]
check "every stats line is one JSON object" \
	sh -c "grep -v '^scx_central:' /tmp/central.log | grep -qv '^{\"sched\":\"central\".*}\$' && exit 1 || exit 0"

# --- another central CPU ---
sched_start /tmp/central2.log scx_central --central-cpu 2 --json
stress-ng --cpu "$NCPU" -t 4 -q
sched_stop
set -- $(json_percpu /tmp/central2.log dispatch)
total=$(json_total /tmp/central2.log dispatch)
check "--central-cpu 2: decisions made on CPU 2 ($3 of $total)" \
	[ "${total:-0}" -gt 0 -a "$3" -eq "$total" ]

# --- CPU hotplug: the kernel asks for a restart; the loader re-attaches ---
LAST=$((NCPU - 1))
if [ -w /sys/devices/system/cpu/cpu$LAST/online ]; then
	sched_start /tmp/central4.log scx_central
	echo 0 > /sys/devices/system/cpu/cpu$LAST/online
	sleep 3
	check "hotplug: loader re-attached after CPU $LAST went offline" \
		grep -q 're-attaching' /tmp/central4.log
	check "hotplug: enabled again with CPU $LAST offline" wait_state enabled 10
	echo 1 > /sys/devices/system/cpu/cpu$LAST/online
	sleep 3
	check "hotplug: enabled again with CPU $LAST back online" wait_state enabled 10
	check "hotplug: loader still running" kill -0 "$SCHED_PID"
	sched_stop
	check "hotplug: clean exit afterwards" [ $? -eq 0 ]
fi

# --- SIGKILL: the kernel falls back to the fair class ---
check_sigkill scx_central

summary
