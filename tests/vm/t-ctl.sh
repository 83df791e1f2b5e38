#!/bin/sh
# Stats socket and czctl test, run inside a Control Zone VM.
#
# Asserts, against scx_central: czctl's usage errors and exit codes; a
# live socket at the path stops start-up before anything is attached; the
# socket is root's with mode 0600; `czctl stats` answers in its three
# formats and the counters grow between requests; 10,000 random or
# malformed lines (every reply checked by cz-fuzz-ctl), a client that
# never reads and clients that hang up mid-reply neither stop the
# scheduler nor its stats lines nor other clients; SIGINT removes the
# socket; SIGKILL leaves a stale one that czctl names and the next start
# replaces; across a kernel-requested restart (CPU hotplug) the socket
# serves the new attach; --stats-socket PATH and none; `czctl stop
# --container` stops a loader czctl did not start in its own mount
# namespace, and leaves one in another mount namespace running (exit 1).
. /cz/tests/lib.sh

SOCK=/var/run/scx/root/stats

echo "== stats socket and czctl on $(uname -r)"

# lines FILE: how many stats lines a --json scheduler log holds.
lines() { grep -c '^{"sched"' "$1"; }

one_line() { [ "$(wc -l < "$1")" -eq 1 ]; }

# om_samples_ok FILE: every non-comment line is NAME[{cpu="N"}] VALUE.
om_samples_ok() {
	! grep -v '^#' "$1" | grep -Eqv '^scx_central_[a-z0-9_]+(\{cpu="[0-9]+"\})? [0-9.]+$'
}

# --- czctl on its own ---
czctl --help > /tmp/help.out 2>&1
rc=$?
check "czctl --help: exit 0 (got $rc)" [ $rc -eq 0 ]
check "czctl --help lists stats and status" \
	sh -c 'grep -q "^  stats " /tmp/help.out && grep -q "^  status " /tmp/help.out'
for args in "" "frob" "stats --json --openmetrics" "stats --follow 0" "status x"; do
	czctl $args > /tmp/e 2>&1
	rc=$?
	check "czctl${args:+ $args}: exit 2 (got $rc)" [ $rc -eq 2 ]
	check "czctl${args:+ $args}: one error line" one_line /tmp/e
done
rm -f $SOCK
czctl stats > /tmp/e 2>&1
rc=$?
check "czctl stats, nothing running: exit 1 (got $rc)" [ $rc -eq 1 ]
check "czctl stats, nothing running: says there is no socket" grep -q 'no stats socket' /tmp/e
czctl status > /tmp/st 2>&1
rc=$?
check "czctl status, nothing running: exit 0 (got $rc), disabled" \
	sh -c "[ $rc -eq 0 ] && grep -q '^sched_ext  *disabled' /tmp/st"

# --- a live server at the path: refused before anything is attached ---
mkdir -p "$(dirname $SOCK)"
cz-fuzz-ctl listen $SOCK 60 > /dev/null &
LPID=$!
i=0
while [ ! -S $SOCK ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
scx_central > /tmp/live.out 2>&1
rc=$?
check "live socket at $SOCK: scx_central exits 1 (got $rc)" [ $rc -eq 1 ]
check "live socket: one line saying so" \
	sh -c "[ \$(wc -l < /tmp/live.out) -eq 1 ] && grep -q 'already serves stats' /tmp/live.out"
check "live socket: nothing attached" [ "$(scx_state)" = disabled ]
kill $LPID
wait $LPID

# --- serving ---
if ! sched_start /tmp/ctl.log scx_central --json; then
	bad "scx_central did not become enabled"
	cat /tmp/ctl.log
	summary
	exit 1
fi
check "the socket answers" wait_sock $SOCK 10
check "the loader says where it serves" grep -q "^scx_central: serving stats on $SOCK" /tmp/ctl.log
check "socket mode 0600 ($(stat -c %a $SOCK))" [ "$(stat -c %a $SOCK)" = 600 ]
check "socket owned by root" [ "$(stat -c %u $SOCK)" = 0 ]

czctl stats --json > /tmp/s1.json
rc1=$?
stress-ng --cpu 2 -t 2 -q
czctl stats --json > /tmp/s2.json
rc2=$?
d1=$(json_key /tmp/s1.json dispatch)
d2=$(json_key /tmp/s2.json dispatch)
check "czctl stats --json answers (exit $rc1, $rc2)" [ $rc1 -eq 0 -a $rc2 -eq 0 ]
check "  one JSON object of scx_central" grep -q '^{"sched":"central","uptime_s":[0-9.]*,.*}$' /tmp/s1.json
check "  dispatch grows between requests ($d1 -> $d2)" [ "${d2:-0}" -gt "${d1:-0}" ]

czctl stats --openmetrics > /tmp/om.txt
rc=$?
check "czctl stats --openmetrics: exit 0 (got $rc)" [ $rc -eq 0 ]
check "  ends with # EOF" [ "$(tail -n1 /tmp/om.txt)" = "# EOF" ]
check "  dispatch: a counter, per CPU" \
	sh -c 'grep -q "^# TYPE scx_central_dispatch counter\$" /tmp/om.txt &&
	       grep -q "^scx_central_dispatch_total{cpu=\"0\"} [0-9]*\$" /tmp/om.txt'
check "  queued: a gauge" grep -q '^scx_central_queued [0-9]*$' /tmp/om.txt
check "  every sample line is NAME[{cpu=\"N\"}] VALUE" om_samples_ok /tmp/om.txt

czctl stats > /tmp/text.txt
check "czctl stats: 'key value' lines" \
	sh -c "grep -q '^sched  *central\$' /tmp/text.txt && grep -q '^dispatch  *[0-9]*\$' /tmp/text.txt"
czctl status > /tmp/st
check "czctl status: enabled, ops central, uptime" \
	sh -c "grep -q '^sched_ext  *enabled' /tmp/st && grep -q '^ops  *central' /tmp/st &&
	       grep -q '^uptime_s  *[0-9.]*\$' /tmp/st"
timeout -s INT 4 czctl stats --json --follow 1 > /tmp/follow.out
check "czctl stats --follow 1: a line a second ($(wc -l < /tmp/follow.out) in 4 s)" \
	[ "$(wc -l < /tmp/follow.out)" -ge 3 ]

# --- robustness: the scheduler and its stats loop do not notice ---
n0=$(lines /tmp/ctl.log)
cz-fuzz-ctl fuzz $SOCK 10000 > /tmp/fuzz.out 2>&1
rc=$?
cat /tmp/fuzz.out
check "fuzz: 10,000 random/malformed lines, every reply as expected (exit $rc)" [ $rc -eq 0 ]
check "after fuzz: czctl gets a correct reply" \
	sh -c "czctl stats --json | grep -q '^{\"sched\":\"central\"'"
check "after fuzz: the loader is still running" kill -0 "$SCHED_PID"
check "after fuzz: still enabled" [ "$(scx_state)" = enabled ]

cz-fuzz-ctl hold $SOCK 30 > /tmp/hold.out 2>&1 &
HOLD=$!
sleep 1
check "a client that never reads: others are still served" \
	sh -c "czctl stats --json | grep -q '\"dispatch\"'"
wait $HOLD
rc=$?
check "the never-reading client is dropped: $(cat /tmp/hold.out)" [ $rc -eq 0 ]

cz-fuzz-ctl cut $SOCK 100 > /tmp/cut.out 2>&1
rc=$?
check "100 clients hung up mid-reply (exit $rc)" [ $rc -eq 0 ]
check "after hang-ups: the loader is still running" kill -0 "$SCHED_PID"
check "after hang-ups: czctl still answered" sh -c "czctl stats > /dev/null"
n1=$(lines /tmp/ctl.log)
check "the stats loop kept printing meanwhile ($n0 -> $n1 lines)" [ "$n1" -ge $((n0 + 5)) ]

sched_stop
rc=$?
check "SIGINT: exit 0 (got $rc)" [ $rc -eq 0 ]
check "SIGINT: the socket file is removed" [ ! -e $SOCK ]

# --- SIGKILL leaves a stale socket: czctl says so, the next start replaces it ---
sched_start /tmp/ctl2.log scx_central
wait_sock $SOCK 10
kill -KILL "$SCHED_PID"
wait "$SCHED_PID" 2>/dev/null
wait_state disabled 5
check "SIGKILL leaves the socket file behind" [ -S $SOCK ]
czctl stats > /tmp/e 2>&1
rc=$?
check "czctl on a stale socket: exit 1 (got $rc), one line naming it" \
	sh -c "[ $rc -eq 1 ] && [ \$(wc -l < /tmp/e) -eq 1 ] && grep -q 'stale stats socket' /tmp/e"
if sched_start /tmp/ctl3.log scx_central; then
	check "a new scheduler replaces the stale socket" wait_sock $SOCK 10
	sched_stop
else
	bad "scx_central did not start over a stale socket: $(cat /tmp/ctl3.log)"
	sched_stop
fi

# --- a kernel-requested restart (CPU hotplug): the server follows the new map ---
LAST=$(($(nproc) - 1))
if [ -w /sys/devices/system/cpu/cpu$LAST/online ]; then
	sched_start /tmp/ctl6.log scx_central
	wait_sock $SOCK 10
	czctl stats --json > /tmp/hp0.json
	czctl stats --json --follow 0.2 > /tmp/hp.json 2> /tmp/hp.err &
	FPID=$!
	echo 0 > /sys/devices/system/cpu/cpu$LAST/online
	sleep 3
	echo 1 > /sys/devices/system/cpu/cpu$LAST/online
	sleep 3
	wait_state enabled 10
	# The state turns "enabled" a moment before the loader serves the new
	# attach: give the follower up to 10 s to read a reply from it.
	n=0
	r0=$(wc -l < /tmp/hp.json)
	while [ "$(wc -l < /tmp/hp.json)" -le "$r0" ] && [ $n -lt 50 ]; do
		sleep 0.2
		n=$((n + 1))
	done
	kill -INT $FPID
	wait $FPID
	rc=$?
	czctl stats --json > /tmp/hp1.json
	u0=$(json_key /tmp/hp0.json uptime_s)
	u1=$(json_key /tmp/hp1.json uptime_s)
	check "hotplug: the loader re-attached" grep -q 're-attaching' /tmp/ctl6.log
	# While detached it answers EAGAIN ("not attached"), nothing worse.
	check "hotplug: czctl --follow read on across restarts (exit $rc, $(wc -l < /tmp/hp.json) replies, $r0 before re-enable, $(wc -l < /tmp/hp.err) 'not attached')" \
		[ $rc -eq 0 -a "$(wc -l < /tmp/hp.json)" -gt "$r0" ]
	check "hotplug: no error but 'not attached' meanwhile" \
		sh -c "! grep -v 'not attached' /tmp/hp.err"
	check "hotplug: replies come from the new attach (uptime_s $u0 before, $u1 after 6 s)" \
		awk -v a="$u0" -v b="$u1" 'BEGIN { exit !(b != "" && b < a + 5) }'
	check "hotplug: the loader is still running" kill -0 "$SCHED_PID"
	sched_stop
	check "hotplug: clean exit afterwards" [ $? -eq 0 ]
fi

# --- --stats-socket PATH and none ---
sched_start /tmp/ctl4.log scx_central --stats-socket /tmp/cz/alt.sock
check "--stats-socket PATH: served there" wait_sock /tmp/cz/alt.sock 10
check "--stats-socket PATH: nothing at the default path" [ ! -e $SOCK ]
sched_stop
check "--stats-socket PATH: removed on exit" [ ! -e /tmp/cz/alt.sock ]
sched_start /tmp/ctl5.log scx_central --stats-socket none
check "--stats-socket none: no socket" [ ! -e $SOCK ]
check "--stats-socket none: not announced" sh -c "! grep -q 'serving stats' /tmp/ctl5.log"
sched_stop
check "--stats-socket none: clean exit" [ $? -eq 0 ]

# --- czctl stop --container: a loader czctl did not start, in our mount
# namespace only (a container's preStop hook) ---
sched_start /tmp/ctl6.log unshare -m scx_central --stats-socket none
czctl stop --container > /tmp/e 2>&1
rc=$?
check "stop --container, the loader in another mount namespace: exit 1 (got $rc), left running" \
	sh -c "[ $rc -eq 1 ] && [ \"\$(cat /sys/kernel/sched_ext/state)\" = enabled ] && kill -0 $SCHED_PID"
check "stop --container: says why ($(head -n1 /tmp/e))" \
	grep -q 'no loader scx_central runs in this mount namespace' /tmp/e
sched_stop
sched_start /tmp/ctl7.log scx_central --stats-socket none
czctl stop --container > /tmp/e 2>&1
rc=$?
wait "$SCHED_PID"
src=$?
check "stop --container: exit $rc, sched_ext $(scx_state), the loader exited $src with its exit report" \
	sh -c "[ $rc -eq 0 ] && [ $src -eq 0 ] && [ \"\$(cat /sys/kernel/sched_ext/state)\" = disabled ]" &&
	grep -q 'unregistered from user space' /tmp/ctl7.log

summary
