#!/bin/sh
# czctl list/start/stop/switch test, run inside a Control Zone VM.
#
# Asserts: list shows scx_central with its description; start, stop and
# switch exit codes and one-line errors (nothing running, unknown
# scheduler, bad arguments, already running); the run-state file (mode,
# pid, args) and what status shows from it, stale included; under
# `stress-ng --cpu 4`, 20 switches in a row alternating scx_central's args,
# each enabled with ops central and the recorded args, a new loader each
# time and the old one gone, timed from command
# to enabled; a switch with bad arguments leaves the running loader alone
# (same pid); a scheduler that fails to load leaves the running one alone
# (same pid: the new one is loaded before the old one stops), one that
# exits within the grace period is replaced by the previous one with its
# args, and the switch fails with its reason; the zone is on the fair class
# for under a second of each switch; two concurrent switches both succeed, one after
# the other; stop leaves sched_ext disabled and no loader; rcu_preempt runs
# SCHED_FIFO, and (not on 6.16) 5 stops while CPU hogs are being forked each
# complete.
# "Under a second": the median, over the 20 switches, of the time from the
# old scheduler's stop to the new one's enable is at most 1 s (the new one
# is preloaded). The forked hogs: cz-spawn forks 60 of them around each stop.
. /cz/tests/lib.sh

RUN=/run/controlzone

echo "== czctl start/stop/switch on $(uname -r)"

rs_pid() { grep -o '"pid":[0-9]*' $RUN/current 2>/dev/null | cut -d: -f2; }
rs_args() { grep -o '"args":\[[^]]*\]' $RUN/current 2>/dev/null; }
# alive PID: a process, not a zombie (whose cmdline is empty; procfs
# files have no size, so it is read).
alive() { [ -n "$1" ] && [ -n "$(cat "/proc/$1/cmdline" 2>/dev/null | tr '\0' ' ')" ]; }
gone() { ! alive "$1"; }
# loaders: how many live scx_central processes there are.
loaders() {
	n=0
	for c in /proc/[0-9]*/cmdline; do
		case "$(cat "$c" 2>/dev/null | tr '\0' ' ')" in
		*/scx_central\ *|*/scx_central) n=$((n + 1)) ;;
		esac
	done
	echo $n
}
enabled_central() { [ "$(scx_state)" = enabled ] && [ "$(scx_ops)" = central ]; }

# --- list, and errors while nothing runs ---
czctl list > /tmp/list 2>&1
rc=$?
cat /tmp/list
check "czctl list: exit 0 (got $rc)" [ $rc -eq 0 ]
check "czctl list: scx_central with its description" \
	grep -q '^scx_central  *one CPU makes every dispatch decision' /tmp/list

czctl stop > /tmp/e 2>&1
rc=$?
check "stop, nothing running: exit 1 (got $rc), one line" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l < /tmp/e) -eq 1 ] && grep -q 'nothing running' /tmp/e"
czctl start scx_nosuch > /tmp/e 2>&1
rc=$?
check "start of an unknown scheduler: exit 1 (got $rc), one line" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l < /tmp/e) -eq 1 ] && grep -q 'unknown scheduler' /tmp/e"
czctl start scx_central -- --slice-us 0 > /tmp/e 2>&1
rc=$?
check "start with bad args: exit 2 (got $rc), one line naming them" \
	sh -c "[ $rc -eq 2 ] && [ \$(wc -l < /tmp/e) -eq 1 ] && grep -q 'slice-us' /tmp/e"
check "start with bad args: sched_ext stays disabled" [ "$(scx_state)" = disabled ]

# --- start ---
czctl start scx_central > /tmp/e 2>&1
rc=$?
check "start: exit 0 (got $rc), silent" sh -c "[ $rc -eq 0 ] && [ ! -s /tmp/e ]"
check "start: enabled with ops central" enabled_central
P=$(rs_pid)
check "run-state: pid $P is a live loader" alive "$P"
check "run-state: no args ($(rs_args))" [ "$(rs_args)" = '"args":[]' ]
check "run-state: mode 0644 ($(stat -c %a $RUN/current))" [ "$(stat -c %a $RUN/current)" = 644 ]
check "run-state dir: mode 0755" [ "$(stat -c %a $RUN)" = 755 ]
check "the loader logs to $RUN/scx_central.log" grep -q '^scx_central: attached' $RUN/scx_central.log
czctl status > /tmp/st
cat /tmp/st
check "status: pid, args, uptime, log" \
	sh -c "grep -q '^pid  *$P\$' /tmp/st && grep -q '^args  *(none)\$' /tmp/st &&
	       grep -q '^uptime  *[0-9.]* s\$' /tmp/st && grep -q '^log  *$RUN/scx_central.log\$' /tmp/st"

czctl start scx_central -- --slice-us 5000 > /tmp/e 2>&1
rc=$?
check "start while running: exit 1 (got $rc), one line" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l < /tmp/e) -eq 1 ] && grep -q 'already running' /tmp/e"
check "start while running: same loader" [ "$(rs_pid)" = "$P" ]

# --- 20 switches under load ---
stress-ng --cpu 4 -t 900 -q &
HOGS=$!
# The switches start once the four hogs run: hogs forked during a stop can
# hang it on 6.16 (tests/README.md, "Known kernel issues"; tested on its own below).
k=0
while [ "$(cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^stress-ng-cpu$')" -lt 4 ] &&
      [ $k -lt 100 ]; do
	sleep 0.1
	k=$((k + 1))
done
errs=0
times=
gaps=
prev=$P
i=1
while [ $i -le 20 ]; do
	# Odd: no args, even: --slice-us 5000, which the last one leaves
	# running for the restore tests below.
	if [ $((i % 2)) -eq 0 ]; then
		czctl switch -v scx_central -- --slice-us 5000 > /tmp/sw.out 2>&1
		rc=$?
		want='"args":["--slice-us","5000"]'
	else
		czctl switch -v scx_central > /tmp/sw.out 2>&1
		rc=$?
		want='"args":[]'
	fi
	p=$(rs_pid)
	switch_timing /tmp/sw.out
	times="$times ${SW_UP:-?}"
	gaps="$gaps ${SW_FAIR:-?}"
	if [ $rc -ne 0 ] || ! enabled_central || [ "$(rs_args)" != "$want" ] ||
	   ! alive "$p" || [ "$p" = "$prev" ] || alive "$prev"; then
		bad "switch $i: rc $rc, $(scx_state)/$(scx_ops), $(rs_args), pid $prev -> $p"
		cat /tmp/sw.out
		errs=$((errs + 1))
	fi
	prev=$p
	i=$((i + 1))
done
echo "switch times (command to enabled, s):$times"
echo "$times" | tr ' ' '\n' | grep -v '^$' | sort -n |
	awk '{ v[NR] = $1 } END { printf "switch time: min %s, median %s, max %s (s)\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
check "20 switches under stress-ng --cpu 4: each exit 0, enabled, ops central, args recorded, a new loader ($errs bad)" \
	[ $errs -eq 0 ]
echo "on the fair class during each switch (s):$gaps"
gap_med=$(echo "$gaps" | tr ' ' '\n' | grep -v '^$' | median)
check "the new scheduler is loaded before the old one stops: median time on the fair class $gap_med s <= 1 s" \
	le "$gap_med" 1
check "one loader after the switches ($(loaders))" [ "$(loaders)" -eq 1 ]
grep -v '^czctl: \[' /tmp/sw.out > /tmp/sw.rest
check "a switch is silent without -v" [ ! -s /tmp/sw.rest ]

# --- bad args: the running scheduler is left alone ---
P=$(rs_pid)
A=$(rs_args)
czctl switch scx_central -- --slice-us 0 > /tmp/e 2>&1
rc=$?
cat /tmp/e
check "switch with bad args: exit non-zero (got $rc), one line" \
	sh -c "[ $rc -ne 0 ] && [ \$(wc -l < /tmp/e) -eq 1 ]"
check "switch with bad args: same loader (pid $P -> $(rs_pid)) still enabled" \
	sh -c "[ '$(rs_pid)' = '$P' ] && [ \"\$(cat $SCX/state)\" = enabled ]"
check "switch with bad args: the loader is alive" alive "$P"

# --- a scheduler that fails to load: the previous one comes back ---
mkdir -p /tmp/fake
cat > /tmp/fake/scx_broken <<'EOF'
#!/bin/sh
[ "$1" = --check-args ] && exit 0
echo "scx_broken: loading the BPF program failed: Invalid argument"
exit 1
EOF
chmod 755 /tmp/fake/scx_broken
CZ_SCHED_PATH=/tmp/fake czctl list > /tmp/list2
check "CZ_SCHED_PATH: list shows scx_broken too" grep -q '^scx_broken ' /tmp/list2
P=$(rs_pid)
CZ_SCHED_PATH=/tmp/fake czctl switch scx_broken > /tmp/e 2>&1
rc=$?
cat /tmp/e
check "switch to a scheduler that fails to load: exit 1 (got $rc)" [ $rc -eq 1 ]
check "  the reason is its error line" grep -q 'scx_broken: loading the BPF program failed' /tmp/e
check "  the running one is left alone, never stopped (pid $P -> $(rs_pid), $A -> $(rs_args))" \
	sh -c "grep -q 'scx_central (pid $P) left running' /tmp/e && [ '$(rs_pid)' = '$P' ] && [ '$(rs_args)' = '$A' ]"
check "  enabled with ops central" enabled_central
check "  the loader is alive" alive "$(rs_pid)"

# --- a scheduler that exits within the grace period: restored too ---
# czctl looks in its own directory first: a copy next to a wrapper that
# makes scx_central exit 1 s after it attached.
mkdir -p /tmp/grace
cp "$(command -v czctl)" /tmp/grace/czctl
cat > /tmp/grace/scx_central <<'EOF'
#!/bin/sh
exec /cz/bin/scx_central --duration 1 "$@"
EOF
chmod 755 /tmp/grace/scx_central
A=$(rs_args)
/tmp/grace/czctl switch scx_central > /tmp/e 2>&1
rc=$?
cat /tmp/e
check "switch to a scheduler that exits after 1 s: exit 1 (got $rc)" [ $rc -eq 1 ]
check "  the reason says it exited after being enabled" grep -q 'after it was enabled' /tmp/e
check "  the previous one is restored ($A -> $(rs_args)), enabled" \
	sh -c "grep -q 'restored scx_central' /tmp/e && [ '$(rs_args)' = '$A' ] && [ \"\$(cat $SCX/state)\" = enabled ]"
check "  run-state names the real binary" grep -q '"binary":"/cz/bin/scx_central"' $RUN/current

# --- two switches at once: serialised by the lock ---
czctl switch scx_central -- --slice-us 5000 > /tmp/c1 2>&1 &
C1=$!
czctl switch scx_central -- --slice-us 7000 > /tmp/c2 2>&1 &
C2=$!
wait $C1
r1=$?
wait $C2
r2=$?
cat /tmp/c1 /tmp/c2
check "two concurrent switches: both exit 0 ($r1, $r2)" [ $r1 -eq 0 -a $r2 -eq 0 ]
check "  enabled with ops central, one loader ($(loaders))" \
	sh -c "[ \"\$(cat $SCX/state)\" = enabled ] && [ $(loaders) -eq 1 ]"
check "  the recorded loader is alive" alive "$(rs_pid)"
check "  the recorded args are one of the two ($(rs_args))" \
	sh -c "echo '$(rs_args)' | grep -Eq '\"(5000|7000)\"'"

kill $HOGS 2>/dev/null
wait $HOGS 2>/dev/null

# --- stop ---
P=$(rs_pid)
czctl stop > /tmp/e 2>&1
rc=$?
check "stop: exit 0 (got $rc), silent" sh -c "[ $rc -eq 0 ] && [ ! -s /tmp/e ]"
check "stop: sched_ext disabled" [ "$(scx_state)" = disabled ]
check "stop: the loader $P is gone" gone "$P"
check "stop: no loader left ($(loaders))" [ "$(loaders)" -eq 0 ]
check "stop: run-state removed" [ ! -e $RUN/current ]
check "stop: the loader exited cleanly (its log)" \
	sh -c "tail -n 3 $RUN/scx_central.log | grep -q 'exit: .*unregistered from user space'"

# --- a stale run-state: reported by status, ignored by start ---
czctl start scx_central
P=$(rs_pid)
kill -KILL "$P"
wait_state disabled 5
czctl status > /tmp/st
check "status with a stale run-state says so" grep -q '^run-state  stale, ignored: pid '"$P" /tmp/st
czctl start scx_central -- --slice-us 5000
rc=$?
check "start over a stale run-state: exit 0 (got $rc), enabled" sh -c "[ $rc -eq 0 ] && [ \"\$(cat $SCX/state)\" = enabled ]"
czctl stop
rc=$?
check "stop: exit 0 (got $rc), disabled" sh -c "[ $rc -eq 0 ] && [ \"\$(cat $SCX/state)\" = disabled ]"

# --- stops while new CPU hogs keep appearing ---
# A task forked while sched_ext is disabling goes to the fair class, ahead
# of every task still on sched_ext, and the disable waits for RCU grace
# periods. On 6.16 fair-class hogs on every CPU then starve what the grace
# period needs: the rcu_preempt kthread (zones boot with
# rcutree.kthread_prio=1, which makes it SCHED_FIFO: 20 of 20 such stops
# then passed where 1 of 7 hung without it) or a task preempted inside an
# RCU read-side section (still seen once), and the stop hangs for good.
# A kernel bug (tests/README.md, "Known kernel issues"): tested where it is fixed.
rcu=$(pidof rcu_preempt)
check "rcu_preempt runs SCHED_FIFO (policy $(cut -d' ' -f41 /proc/$rcu/stat))" \
	[ "$(cut -d' ' -f41 /proc/$rcu/stat)" = 1 ]
case "$(uname -r)" in
6.16.*)
	echo "SKIP: stops while hogs are being forked, on $(uname -r): a known kernel bug can hang them (tests/README.md)" ;;
*)
	hung=0
	n=1
	while [ $n -le 5 ]; do
		czctl start scx_central > /dev/null 2>&1
		# 60 hogs forked as fast as fork goes, the stop amid them.
		cz-spawn 60 0 &
		S=$!
		sleep 0.05
		timeout 60 czctl stop > /dev/null 2>&1 || hung=$((hung + 1))
		kill $S
		wait $S 2>/dev/null
		[ "$(scx_state)" = disabled ] || wait_state disabled 30
		n=$((n + 1))
	done
	check "5 stops of scx_central while 60 hogs are being forked: each exits 0 ($hung did not), disabled" \
		sh -c "[ $hung -eq 0 ] && [ \"\$(cat $SCX/state)\" = disabled ]" ;;
esac

summary
