#!/bin/sh
# Capabilities test, run inside a Control Zone VM: the set a scheduler
# needs instead of a privileged container (deploy/README.md quotes it).
#
# Each scheduler runs as root (uid 0, as in a container) through
# util-linux's setpriv with its bounding and inheritable sets cut to the
# capabilities under test, which is what a container runtime's
# --cap-add/--cap-drop does. On exec, root's effective set becomes the
# bounding set (plus the inheritable one, emptied too), so the
# scheduler's effective set is exactly the one asked for; the test reads
# it back from /proc/PID/status (CapEff), so that setpriv leaving more
# than asked fails the test rather than passing it.
#
# Asserts, for scx_central, scx_netaware, scx_mutex, scx_avxfreq and
# scx_user:
# - with exactly CAP_BPF and CAP_PERFMON: CapEff is those two; it
#   attaches (state enabled, root/ops its name); its stats socket
#   answers; SIGINT detaches it: exit 0, the kernel's reason in the exit
#   report, state disabled;
# - with CAP_BPF alone, and with CAP_PERFMON alone: exit 1; the last line
#   is the loader's "NAME: ...: Operation not permitted (this process
#   lacks CAP_X; a scheduler needs ...)" naming the one that is missing;
#   sched_ext stays disabled and no stats socket is left behind;
# - with CAP_SYS_ADMIN alone: it attaches (the kernel takes it for both).
# On a kernel with sub-schedulers (7.3) also scx_zones as the root with a
# zone, and scx_netaware as that zone's scheduler: both attach with
# CAP_BPF and CAP_PERFMON; the zone's scheduler with CAP_BPF alone exits
# 1 with the line and leaves the root running. Elsewhere a SKIP: line.
. /cz/tests/lib.sh

# By its path: busybox sh runs its own setpriv applet for a bare name,
# and that one cannot set the bounding set.
SETPRIV=/cz/bin/setpriv
SOCK=/var/run/scx/root/stats
NEED="a scheduler needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN"

# CapEff of each set under test (CAP_SYS_ADMIN 21, CAP_PERFMON 38,
# CAP_BPF 39), as /proc/PID/status prints it.
EFF_BPF_PERFMON=000000c000000000
EFF_BPF=0000008000000000
EFF_PERFMON=0000004000000000
EFF_SYS_ADMIN=0000000000200000

echo "== capabilities on $(uname -r)"

if [ ! -x $SETPRIV ]; then
	bad "no $SETPRIV in the image (scripts/mkinitramfs stages it)"
	summary
	exit 1
fi

# as_caps CAPS CMD...: CMD as root with exactly CAPS (setpriv's words,
# "+bpf,+perfmon"); the shell exec'd in between prints its CapEff first,
# which is the one CMD gets (the same exec rule, the same sets). It execs,
# so that in the background $! is CMD's pid: call it in a subshell
# otherwise.
as_caps() {
	c=$1
	shift
	exec $SETPRIV --inh-caps=-all --bounding-set=-all,"$c" -- \
		sh -c 'grep "^CapEff:" /proc/self/status; exec "$@"' sh "$@"
}

# eff_of PID: the hex CapEff of a running process.
eff_of() { sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$1/status"; }

# attaches NAME OPS CAPS EFF: NAME started with CAPS attaches as OPS with
# effective set EFF, serves its stats and detaches cleanly on SIGINT.
attaches() {
	n=$1 ops=$2 c=$3 eff=$4
	log=/tmp/caps.$n.ok.log
	if ! sched_start $log as_caps "$c" $n; then
		bad "$n [$c]: did not become enabled ($(grep "^$n: " $log | tail -n1))"
		kill -INT "$SCHED_PID" 2>/dev/null
		wait "$SCHED_PID"
		wait_state disabled 10
		return
	fi
	got=$(eff_of "$SCHED_PID")
	check "$n [$c]: the loader's CapEff is $eff (got $got)" [ "$got" = "$eff" ]
	check "$n [$c]: attached, root/ops is $ops (got $(scx_ops))" [ "$(scx_ops)" = "$ops" ]
	check "$n [$c]: its stats socket answers" wait_sock $SOCK 10
	sched_stop
	rc=$?
	check "$n [$c]: SIGINT: exit 0 (got $rc)" [ $rc -eq 0 ]
	check "$n [$c]: SIGINT: state back to disabled" wait_state disabled 10
	check "$n [$c]: the exit report names the reason" \
		grep -q 'exit: unregistered from user space' $log
}

# refused NAME CAPS EFF MISSING: NAME started with CAPS exits 1 with one
# line naming MISSING last, and attaches nothing.
refused() {
	n=$1 c=$2 eff=$3 missing=$4
	log=/tmp/caps.$n.$missing.log
	(as_caps "$c" $n) > $log 2>&1
	rc=$?
	got=$(sed -n 's/^CapEff:[[:space:]]*//p' $log)
	last=$(tail -n1 $log)
	check "$n [$c]: CapEff is $eff (got $got)" [ "$got" = "$eff" ]
	check "$n [$c]: exit 1 (got $rc)" [ $rc -eq 1 ]
	check "$n [$c]: last line names $missing ($last)" sh -c \
		'echo "$1" | grep -q "^$2: .*: Operation not permitted (this process lacks $3; $4)\$"' \
		sh "$last" "$n" "$missing" "$NEED"
	check "$n [$c]: sched_ext stays disabled" [ "$(scx_state)" = disabled ]
	check "$n [$c]: no stats socket left behind" [ ! -e $SOCK ]
}

for s in central netaware mutex avxfreq user; do
	attaches scx_$s $s +bpf,+perfmon $EFF_BPF_PERFMON
	refused scx_$s +bpf $EFF_BPF CAP_PERFMON
	refused scx_$s +perfmon $EFF_PERFMON CAP_BPF
	attaches scx_$s $s +sys_admin $EFF_SYS_ADMIN
done

if ! grep -q sched_ext_ops_cid /sys/kernel/btf/vmlinux; then
	echo "SKIP: scx_zones and a zone's scheduler: no sub-schedulers on $(uname -r)"
	summary
	exit
fi

# ---- cgroup zones (7.3): the root and a zone's scheduler ----
ZA=/sys/fs/cgroup/cz-caps
mkdir -p $ZA
if sched_start /tmp/caps.zones.log as_caps +bpf,+perfmon scx_zones --zone $ZA=2-3; then
	ROOT=$SCHED_PID
	check "scx_zones [+bpf,+perfmon]: CapEff is $EFF_BPF_PERFMON" \
		[ "$(eff_of $ROOT)" = $EFF_BPF_PERFMON ]
	check "scx_zones [+bpf,+perfmon]: attached, root/ops is zones" [ "$(scx_ops)" = zones ]

	(as_caps +bpf scx_netaware --cgroup $ZA) > /tmp/caps.sub.bpf.log 2>&1
	rc=$?
	last=$(tail -n1 /tmp/caps.sub.bpf.log)
	check "zone's scx_netaware [+bpf]: exit 1 (got $rc)" [ $rc -eq 1 ]
	check "zone's scx_netaware [+bpf]: last line names CAP_PERFMON ($last)" sh -c \
		'echo "$1" | grep -q "^scx_netaware: .*(this process lacks CAP_PERFMON; $2)\$"' \
		sh "$last" "$NEED"
	check "the root still runs" [ "$(scx_state)/$(scx_ops)" = enabled/zones ]

	as_caps +bpf,+perfmon scx_netaware --cgroup $ZA > /tmp/caps.sub.log 2>&1 &
	SUB=$!
	wait_line /tmp/caps.sub.log 'attached: ops' $SUB
	check "zone's scx_netaware [+bpf,+perfmon]: attached" grep -q 'attached: ops' /tmp/caps.sub.log
	check "zone's scx_netaware [+bpf,+perfmon]: CapEff is $EFF_BPF_PERFMON" \
		[ "$(eff_of $SUB)" = $EFF_BPF_PERFMON ]
	kill -INT $SUB
	wait $SUB
	rc=$?
	check "zone's scx_netaware: SIGINT: exit 0 (got $rc)" [ $rc -eq 0 ]
	sched_stop
	rc=$?
	check "scx_zones: SIGINT: exit 0 (got $rc)" [ $rc -eq 0 ]
	check "scx_zones: state back to disabled" wait_state disabled 10
else
	bad "scx_zones [+bpf,+perfmon]: did not become enabled ($(tail -n1 /tmp/caps.zones.log))"
	kill -INT "$SCHED_PID" 2>/dev/null
	wait "$SCHED_PID"
	wait_state disabled 10
fi
rmdir $ZA 2>/dev/null

summary
