#!/bin/sh
# cz-corun behaviour test, run inside a Control Zone VM (4 vCPUs as 2 cores
# x 2 threads) under the default fair scheduler: no sched_ext scheduler is
# attached, which is the point, the meter must not need one.
#
# Asserts against the kernel's own accounting: A's CPU time matches
# /proc/PID/schedstat (or the cgroup's cpu.stat) over the same window
# within 20%; co-run is > 0 and <= A's CPU time when B hogs the other
# threads, and 0 when B does not run; pinned, B co-runs with A on A's
# sibling and never on the other core; A is found by pid, comm and cgroup
# (a process in a child cgroup counts); SIGINT ends a run with its result;
# bad input and non-root exit 2 with one error line and leave no meter
# behind.
# Pinned: co-run is 0 with B on the other core and at least 80% of A's CPU
# time with B on A's sibling. --wait: no window opens before SIGUSR1, then
# one --duration long; SIGINT before SIGUSR1 exits 1 with no result.
. /cz/tests/lib.sh

NCPU=$(nproc)
CG=/sys/fs/cgroup/cz-corun-a

echo "== cz-corun on $(uname -r), $NCPU CPUs, cpu0 siblings $(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list)"

# runtime PID: ns the task has run, from the kernel's schedstat.
runtime() {
	cut -d' ' -f1 "/proc/$1/schedstat"
}

# meter OUT PID ARGS...: run cz-corun --json ARGS in the background; once
# its window opens, note PID's runtime in T0; when it exits, in T1. JSON
# goes to OUT, stderr to OUT.err, the exit status to RC; OPENED is yes
# when the window opened.
meter() {
	out=$1 pid=$2
	shift 2
	cz-corun --json "$@" > "$out" 2> "$out.err" &
	mpid=$!
	OPENED=no
	T0=$(runtime "$pid")
	if wait_line "$out.err" 'measuring' $mpid; then
		T0=$(runtime "$pid")
		OPENED=yes
	fi
	wait $mpid
	RC=$?
	T1=$(runtime "$pid")
	[ $OPENED = yes ] || { echo "   cz-corun said:"; cat "$out.err"; }
}

no_meter_left() {
	! pidof cz-corun > /dev/null
}

check "no sched_ext scheduler attached" [ "$(scx_state)" != enabled ]
check "the zone has SMT siblings (cpu0: $(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list))" \
	[ "$(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list)" = 0-1 ]

# --- bad input: exit 2, one error line naming the problem, nothing left ---
# bad_input WANT ARGS...: WANT is a piece of the error line.
bad_input() {
	want=$1
	shift
	cz-corun "$@" > /tmp/bad.out 2>&1
	rc=$?
	# argp adds "Usage:" and "Try ... --help" after the error line.
	lines=$(grep -cv '^Usage: \|^Try ' /tmp/bad.out)
	check "bad input '$*': exit 2 (got $rc)" [ $rc -eq 2 ]
	check "bad input '$*': one error line, naming it ($(head -n1 /tmp/bad.out))" \
		[ "$lines" -eq 1 -a -n "$(grep -F -- "$want" /tmp/bad.out)" ]
	check "bad input '$*': no meter left running" no_meter_left
}
bad_input 'no process 4194305' --a-pid 4194305 --duration 1
bad_input "'12ab' is not a process id" --a-pid 12ab --duration 1
bad_input 'no-such: No such file or directory' --a-cgroup /sys/fs/cgroup/no-such --duration 1
bad_input '/tmp: not a cgroup2 directory' --a-cgroup /tmp --duration 1
bad_input 'a comm has 1 to 15' --a-comm 0123456789abcdef --duration 1
bad_input "unrecognized option '--no-such-option'" --a-pid 1 --no-such-option
bad_input 'no rule for set A' --b-comm stress-ng-cpu --duration 1
bad_input '--duration: 0 is out of range' --a-pid 1 --duration 0

grep -q '^nobody:' /etc/passwd || echo 'nobody:x:65534:65534::/:/bin/sh' >> /etc/passwd
su -s /bin/sh nobody -c 'cz-corun --a-pid 1 --duration 1' > /tmp/bad.out 2>&1
rc=$?
check "not root: exit 2 (got $rc)" [ $rc -eq 2 ]
check "not root: one line says so ($(head -n1 /tmp/bad.out))" \
	[ "$(wc -l < /tmp/bad.out)" -eq 1 -a -n "$(grep 'must be run as root' /tmp/bad.out)" ]

# --- A: a busy loop with its own comm; B: stress-ng on the other 3 CPUs ---
cp /bin/bash /tmp/czspin
/tmp/czspin -c 'while :; do :; done' &
SPIN=$!
stress-ng --cpu $((NCPU - 1)) -t 120 -q &
HOGS=$!
sleep 1

meter /tmp/c1.json $SPIN --a-comm czspin --b-comm stress-ng-cpu --duration 5
a=$(jkey /tmp/c1.json a_cpu_ns)
b=$(jkey /tmp/c1.json b_cpu_ns)
co=$(jkey /tmp/c1.json corun_ns)
echo "   by comm: $(cat /tmp/c1.json); schedstat ran $((T1 - T0)) ns"
check "A by comm: exit 0 (got $RC)" [ "$RC" -eq 0 ]
check "A by comm: window opened" [ $OPENED = yes ]
check "A by comm: A's CPU time ($a) within 20% of schedstat's ($((T1 - T0)))" \
	near "$a" $((T1 - T0)) 20
check "A by comm: B ran ($b ns)" gt "$b" 0
check "A by comm: co-run > 0 ($co ns)" gt "$co" 0
check "A by comm: co-run <= A's CPU time ($co <= $a)" le "$co" "$a"

meter /tmp/c2.json $SPIN --a-pid $SPIN --duration 4
a=$(jkey /tmp/c2.json a_cpu_ns)
b=$(jkey /tmp/c2.json b_cpu_ns)
co=$(jkey /tmp/c2.json corun_ns)
echo "   by pid, B = rest: $(cat /tmp/c2.json); schedstat ran $((T1 - T0)) ns"
check "A by pid: exit 0 (got $RC)" [ "$RC" -eq 0 ]
check "A by pid: A's CPU time ($a) within 20% of schedstat's ($((T1 - T0)))" \
	near "$a" $((T1 - T0)) 20
check "A by pid, no B rule: B is the rest ($(jkey /tmp/c2.json b_is_rest))" \
	[ "$(jkey /tmp/c2.json b_is_rest)" = true ]
check "A by pid, B = rest: B ran ($b ns)" gt "$b" 0
check "A by pid, B = rest: 0 < co-run ($co) <= A's CPU time" \
	awk -v c="$co" -v a="$a" 'BEGIN { exit !(c > 0 && c <= a) }'
check "A by pid: co-run in $(jkey /tmp/c2.json corun_spans) intervals, the longest $(jkey /tmp/c2.json corun_max_ns) ns <= co-run" \
	awk -v n="$(jkey /tmp/c2.json corun_spans)" -v m="$(jkey /tmp/c2.json corun_max_ns)" \
	-v c="$co" 'BEGIN { exit !(n >= 1 && m > 0 && m <= c) }'

# --- SIGINT ends the window and still reports ---
cz-corun --json --a-pid $SPIN > /tmp/c3.json 2> /tmp/c3.json.err &
mpid=$!
wait_line /tmp/c3.json.err 'measuring until' $mpid
sleep 2
kill -INT $mpid
wait $mpid
rc=$?
check "SIGINT: exit 0 (got $rc)" [ $rc -eq 0 ]
check "SIGINT: result printed ($(cat /tmp/c3.json))" \
	gt "$(jkey /tmp/c3.json a_cpu_ns)" 0
check "SIGINT: no meter left running" no_meter_left

# --- --wait: attached, but the window opens only on SIGUSR1 ---
cz-corun --json --a-pid $SPIN --duration 1 --wait > /tmp/c5.json 2> /tmp/c5.json.err &
mpid=$!
check "--wait: says it is attached" wait_line /tmp/c5.json.err 'window opens on SIGUSR1' $mpid
sleep 1
check "--wait: no window before SIGUSR1" sh -c "! grep -q measuring /tmp/c5.json.err"
kill -USR1 $mpid
wait $mpid
rc=$?
check "--wait: SIGUSR1 opens a window that ends as asked, exit 0 (got $rc, $(cat /tmp/c5.json))" \
	[ $rc -eq 0 -a "$(jkey /tmp/c5.json a_cpu_ns)" -gt 0 ]
check "--wait: the window is --duration long ($(jkey /tmp/c5.json duration_ns) ns)" \
	near "$(jkey /tmp/c5.json duration_ns)" 1000000000 10
cz-corun --json --a-pid $SPIN --wait > /tmp/c6.json 2> /tmp/c6.json.err &
mpid=$!
wait_line /tmp/c6.json.err 'window opens on SIGUSR1' $mpid
kill -INT $mpid
wait $mpid
rc=$?
check "--wait, SIGINT before the window: exit 1, no result (got $rc: $(tail -n1 /tmp/c6.json.err))" \
	[ $rc -eq 1 -a ! -s /tmp/c6.json ]
check "--wait: no meter left running" no_meter_left

kill $HOGS
wait $HOGS 2>/dev/null
sleep 1

# --- B does not run: no co-run ---
meter /tmp/c4.json $SPIN --a-comm czspin --b-comm stress-ng-cpu --duration 3
a=$(jkey /tmp/c4.json a_cpu_ns)
echo "   B idle: $(cat /tmp/c4.json)"
check "B idle: exit 0 (got $RC)" [ "$RC" -eq 0 ]
check "B idle: A ran ($a ns)" gt "$a" 0
check "B idle: B's CPU time is 0 ($(jkey /tmp/c4.json b_cpu_ns))" \
	[ "$(jkey /tmp/c4.json b_cpu_ns)" = 0 ]
check "B idle: co-run is 0 ($(jkey /tmp/c4.json corun_ns))" \
	[ "$(jkey /tmp/c4.json corun_ns)" = 0 ]
kill $SPIN
wait $SPIN 2>/dev/null

# --- topology: B on A's SMT sibling co-runs, B on the other core never ---
taskset 0x1 /tmp/czspin -c 'while :; do :; done' &
PIN=$!
taskset 0x4 stress-ng --cpu 1 -t 60 -q &
HOGS=$!
sleep 1
meter /tmp/c6.json $PIN --a-pid $PIN --b-comm stress-ng-cpu --duration 3
echo "   A on CPU 0, B on CPU 2: $(cat /tmp/c6.json)"
check "A on CPU 0, B on CPU 2 (other core): B ran ($(jkey /tmp/c6.json b_cpu_ns) ns)" \
	gt "$(jkey /tmp/c6.json b_cpu_ns)" 0
check "A on CPU 0, B on CPU 2 (other core): co-run is 0 ($(jkey /tmp/c6.json corun_ns))" \
	[ "$(jkey /tmp/c6.json corun_ns)" = 0 ]
kill $HOGS
wait $HOGS 2>/dev/null
taskset 0x2 stress-ng --cpu 1 -t 60 -q &
HOGS=$!
sleep 1
meter /tmp/c7.json $PIN --a-pid $PIN --b-comm stress-ng-cpu --duration 3
a=$(jkey /tmp/c7.json a_cpu_ns)
co=$(jkey /tmp/c7.json corun_ns)
echo "   A on CPU 0, B on CPU 1: $(cat /tmp/c7.json)"
check "A on CPU 0, B on CPU 1 (its sibling): co-run ($co) >= 80% of A's CPU time ($a)" \
	awk -v c="$co" -v a="$a" 'BEGIN { exit !(a > 0 && c >= a * 0.8 && c <= a) }'
kill $HOGS $PIN
wait $HOGS $PIN 2>/dev/null

# --- A by cgroup: a process in a child of the named cgroup ---
mkdir -p $CG/inner
sh -c "echo \$\$ > $CG/inner/cgroup.procs && exec /tmp/czspin -c 'while :; do :; done'" &
CGSPIN=$!
stress-ng --cpu $((NCPU - 1)) -t 60 -q &
HOGS=$!
sleep 1
check "cgroup: the loop runs in $CG/inner" \
	grep -q "^0::/cz-corun-a/inner\$" /proc/$CGSPIN/cgroup
u0=$(sed -n 's/^usage_usec //p' $CG/cpu.stat)
meter /tmp/c5.json $CGSPIN --a-cgroup $CG --duration 4
u1=$(sed -n 's/^usage_usec //p' $CG/cpu.stat)
a=$(jkey /tmp/c5.json a_cpu_ns)
echo "   by cgroup: $(cat /tmp/c5.json); schedstat ran $((T1 - T0)) ns; cgroup usage grew $(((u1 - u0) * 1000)) ns over the whole run"
check "A by cgroup: exit 0 (got $RC)" [ "$RC" -eq 0 ]
check "A by cgroup: A's CPU time ($a) within 20% of schedstat's ($((T1 - T0)))" \
	near "$a" $((T1 - T0)) 20
check "A by cgroup: A's CPU time ($a) <= the cgroup's usage over the whole run" \
	le "$a" $(((u1 - u0) * 1000))
check "A by cgroup: co-run > 0 ($(jkey /tmp/c5.json corun_ns))" \
	gt "$(jkey /tmp/c5.json corun_ns)" 0
kill $HOGS $CGSPIN
wait $HOGS $CGSPIN 2>/dev/null
rmdir $CG/inner $CG 2>/dev/null

check "no meter left running at the end" no_meter_left
summary
