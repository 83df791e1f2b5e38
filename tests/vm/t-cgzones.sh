#!/bin/sh
# Cgroup zones test, run inside a Control Zone VM (4 vCPUs): scx_zones as
# the root, scx_netaware as the sub-scheduler of one zone's cgroup.
#
# On a kernel with sched_ext sub-schedulers (7.3) it asserts, from
# placement (/proc/PID/stat's CPU), the cgroup's cpu.stat and both
# schedulers' stats: bad zones exit 2 and attach nothing; a sub-scheduler
# without a root, or on a cgroup that is no zone, exits 1 with the reason
# and leaves the root as it was; the zone's scheduler gets the zone's CPUs
# (z0_up, z0_cpus) and its own stats socket; under hogs inside and outside
# the zone, the zone's tasks run only on its CPUs and use both of them,
# the others get the other two, and the zone's scheduler schedules the
# zone's wakeups; an idle zone's CPUs are lent to the others (z0_lent);
# SIGKILL of the zone's loader leaves the root enabled, gives the zone's
# tasks back to it (they run again); SIGINT of the root exits 0;
# SIGKILL of the root takes the zone's scheduler down with it and leaves
# sched_ext disabled. On an older kernel: both refuse with one clear line,
# exit 1, nothing attached.
. /cz/tests/lib.sh

CG=/sys/fs/cgroup
ZA=$CG/cz-za
ZB=$CG/cz-zb
NOZONE=$CG/cz-other
mkdir -p $ZA $ZB $NOZONE

echo "== cgroup zones on $(uname -r), $(nproc) CPUs"

# in_cg CGROUP CMD...: run CMD in CGROUP, in the background.
in_cg() {
	cg=$1
	shift
	sh -c "echo \$\$ > $cg/cgroup.procs && exec \"\$@\"" sh "$@" &
}

# cpus_of CGROUP: the CPUs its tasks are on now, space separated.
cpus_of() {
	for p in $(cat "$1/cgroup.procs"); do
		awk '{ print $39 }' "/proc/$p/stat" 2>/dev/null
	done | sort -u | paste -sd ' ' -
}

# last LOG KEY: KEY in the last per-interval JSON line of LOG.
last() { grep -v '"total":true' "$1" | grep '^{' | tail -n1 | grep -o "\"$2\":[0-9]*" | cut -d: -f2; }

usage() { sed -n 's/^usage_usec //p' "$1/cpu.stat"; }
# Centiseconds since boot.
now_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
gone() { ! kill -0 "$1" 2>/dev/null; }

if ! grep -q sched_ext_ops_cid /sys/kernel/btf/vmlinux; then
	# ---- a kernel without sub-schedulers (6.16) ----
	scx_zones --zone $ZA=2-3 > /tmp/cgz.old 2>&1
	rc=$?
	check "scx_zones: exit 1 (got $rc)" [ $rc -eq 1 ]
	check "scx_zones: says why ($(grep -m1 'sub-sched' /tmp/cgz.old))" \
		grep -q '^scx_zones: this kernel has no sched_ext sub-schedulers' /tmp/cgz.old
	check "scx_zones: nothing attached" [ "$(scx_state)" = disabled ]
	scx_netaware --cgroup $ZA > /tmp/cgz.old 2>&1
	rc=$?
	check "scx_netaware --cgroup: exit 1 (got $rc)" [ $rc -eq 1 ]
	check "scx_netaware --cgroup: one line says why ($(head -n1 /tmp/cgz.old))" \
		grep -q '^scx_netaware: --cgroup: this kernel has no sched_ext sub-schedulers' /tmp/cgz.old
	check "scx_netaware --cgroup: nothing attached" [ "$(scx_state)" = disabled ]
	summary
	exit $?
fi
check_bad_args scx_zones "--zone /nonexistent=1" "--zone $ZA=9" \
	"--zone $ZA=0-3" "--zone $ZA=1-2 --zone $ZB=2" "--zone $ZA" \
	"--zone $ZA=x"
check_bad_args scx_netaware "--cgroup /nonexistent" "--cgroup /tmp"

scx_netaware --cgroup $ZA > /tmp/cgz.noroot 2>&1
rc=$?
check "sub without a root: exit 1 (got $rc)" [ $rc -eq 1 ]
check "sub without a root: says so ($(head -n1 /tmp/cgz.noroot))" \
	grep -q 'no root scheduler runs' /tmp/cgz.noroot

# ---- the root, and a zone's scheduler under it ----
if ! sched_start /tmp/cgz.root scx_zones --zone $ZA=2-3 --zone $ZB=1 --json; then
	bad "scx_zones did not become enabled"
	cat /tmp/cgz.root
	summary
	exit 1
fi
ROOT=$SCHED_PID
ok "scx_zones enabled"
check "root/ops is 'zones'" [ "$(scx_ops)" = zones ]

scx_netaware --cgroup $NOZONE > /tmp/cgz.nozone 2>&1
rc=$?
check "sub on a cgroup that is no zone: exit 1 (got $rc)" [ $rc -eq 1 ]
check "sub on a cgroup that is no zone: says the root rejected it ($(grep -m1 'rejected' /tmp/cgz.nozone))" \
	grep -q 'parent rejected' /tmp/cgz.nozone
check "the root is unchanged" [ "$(scx_state)/$(scx_ops)" = enabled/zones ]

scx_netaware --cgroup $ZA --json > /tmp/cgz.sub 2>&1 &
SUB=$!
i=0
while ! grep -q 'attached: ops' /tmp/cgz.sub && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "zone's scheduler attached" grep -q 'attached: ops "netaware"' /tmp/cgz.sub
sleep 1.5
check "root: zone 0 up (z0_up $(last /tmp/cgz.root z0_up))" [ "$(last /tmp/cgz.root z0_up)" = 1 ]
check "root: zone 0 has 2 CPUs (z0_cpus $(last /tmp/cgz.root z0_cpus))" \
	[ "$(last /tmp/cgz.root z0_cpus)" = 2 ]
check "zone's scheduler has its own stats socket" [ -S /var/run/scx/cgroup/cz-za/stats ]
check "the root keeps the default one" [ -S /var/run/scx/root/stats ]
czctl stats --socket /var/run/scx/cgroup/cz-za/stats --json > /tmp/cgz.st 2>&1
check "czctl stats reaches the zone's scheduler" grep -q '"wakeups"' /tmp/cgz.st

# Hogs inside and outside the zone: the zone keeps to CPUs 2-3.
in_cg $ZA stress-ng --cpu 4 -t 10 -q
H1=$!
in_cg $NOZONE stress-ng --cpu 4 -t 10 -q
H2=$!
sleep 2
u0=$(usage $ZA)
o0=$(usage $NOZONE)
t0=$(now_cs)
inside_bad=0
for i in 1 2 3 4 5 6; do
	for c in $(cpus_of $ZA); do
		case $c in 2|3) ;; *) inside_bad=$((inside_bad + 1)); echo "zone task on CPU $c" ;; esac
	done
	sleep 1
done
u1=$(usage $ZA)
o1=$(usage $NOZONE)
t1=$(now_cs)
share=$(( (u1 - u0) / (t1 - t0) / 100 ))
oshare=$(( (o1 - o0) / (t1 - t0) / 100 ))
check "zone's tasks only on its CPUs 2-3 (misplaced samples: $inside_bad)" [ $inside_bad -eq 0 ]
check "zone used its 2 CPUs: ${share}% of one CPU (150-210)" \
	[ $share -ge 150 -a $share -le 210 ]
# (A task's last CPU in /proc is stale while it waits, so the others'
# share, not their placement, says whether they took the zone's CPUs.)
check "the others got the other 2 CPUs, not the zone's: ${oshare}% (150-210)" \
	[ $oshare -ge 150 -a $oshare -le 210 ]
wait $H1 $H2
in_cg $ZA hackbench -g 1 -l 50
wait $!
check "hackbench in the zone ran to the end" [ $? -eq 0 ]
sleep 1.2
w=$(json_sum /tmp/cgz.sub wakeups)
check "the zone's scheduler placed the zone's wakeups (wakeups $w)" [ "${w:-0}" -gt 100 ]
check "root dispatched the zone's scheduler (z0_runs summed $(json_sum /tmp/cgz.root z0_runs))" \
	[ "$(json_sum /tmp/cgz.root z0_runs)" -gt 0 ]

# The zone idles: its CPUs are lent to the others.
l0=$(json_sum /tmp/cgz.root z0_lent)
in_cg $NOZONE stress-ng --cpu 4 -t 4 -q
H1=$!
sleep 2
lent_seen=0
for i in 1 2 3; do
	for c in $(cpus_of $NOZONE); do
		case $c in 2|3) lent_seen=1 ;; esac
	done
	sleep 0.5
done
wait $H1
sleep 1.2
l1=$(json_sum /tmp/cgz.root z0_lent)
check "an idle zone lends its CPUs (z0_lent +$((l1 - l0)))" [ $((l1 - l0)) -gt 0 ]
check "other tasks seen on the idle zone's CPUs" [ $lent_seen -eq 1 ]

# SIGKILL of the zone's loader: the root takes its tasks back.
kill -KILL $SUB
wait $SUB 2>/dev/null
sleep 1.5
check "after the zone's loader is killed: root still enabled" \
	[ "$(scx_state)/$(scx_ops)" = enabled/zones ]
check "after the zone's loader is killed: z0_up 0 ($(last /tmp/cgz.root z0_up))" \
	[ "$(last /tmp/cgz.root z0_up)" = 0 ]
in_cg $ZA stress-ng --cpu 2 -t 2 -q
wait $!
check "the zone's tasks run under the root" [ $? -eq 0 ]

kill -INT $ROOT
wait $ROOT
rc=$?
check "root SIGINT: exit 0 (got $rc)" [ $rc -eq 0 ]
check "root SIGINT: disabled" wait_state disabled 5

# SIGKILL of the root with a zone's scheduler attached: both go.
sched_start /tmp/cgz.root2 scx_zones --zone $ZA=2-3
ROOT=$SCHED_PID
scx_netaware --cgroup $ZA > /tmp/cgz.sub2 2>&1 &
SUB=$!
sleep 3
check "second run: zone's scheduler attached" grep -q 'attached: ops' /tmp/cgz.sub2
kill -KILL $ROOT
wait $ROOT 2>/dev/null
check "root SIGKILL: disabled within 5 s" wait_state disabled 5
i=0
while kill -0 $SUB 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "root SIGKILL: the zone's loader ended too" gone $SUB
check "root SIGKILL: its exit report names the parent" grep -q 'exit: parent' /tmp/cgz.sub2
check "root SIGKILL: tasks still run (fair class)" stress-ng --cpu 1 -t 1 -q

rmdir $ZA $ZB $NOZONE 2>/dev/null
summary
