#!/bin/sh
# Cgroup zones test, run inside a Control Zone VM (4 vCPUs): scx_zones as
# the root, scx_netaware and scx_avxfreq as zones' sub-schedulers.
#
# On a kernel with sched_ext sub-schedulers (7.3) it asserts, from
# placement (/proc/PID/stat's CPU), the cgroup's cpu.stat and both
# schedulers' stats: bad zones exit 2 and attach nothing; a sub-scheduler
# without a root, or on a cgroup that is no zone, exits 1 with the reason
# and leaves the root as it was; the zone's scheduler gets the zone's CPUs
# (zN_up, zN_cpus) and its own stats socket; two zones at once under
# different schedulers (netaware on CPUs 2-3, avxfreq on CPU 1): under
# hogs in both and outside, each zone's tasks run only on its CPUs, the
# CPU time splits 2:1:1, each zone's scheduler did the scheduling (its
# own stats), and switching one zone's scheduler (to scx_mutex) leaves
# the other's loader and tasks untouched; an idle zone's CPUs are lent (z0_lent);
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

# Schedulers without a cid form refuse --cgroup as bad usage, saying why.
check_bad_args scx_central "--cgroup $ZA"
check_bad_args scx_zones "--cgroup $ZA"

if ! grep -q sched_ext_ops_cid /sys/kernel/btf/vmlinux; then
	# ---- a kernel without sub-schedulers (6.16) ----
	scx_zones --zone $ZA=2-3 > /tmp/cgz.old 2>&1
	rc=$?
	check "scx_zones: exit 1 (got $rc)" [ $rc -eq 1 ]
	check "scx_zones: says why ($(grep -m1 'sub-sched' /tmp/cgz.old))" \
		grep -q '^scx_zones: this kernel has no sched_ext sub-schedulers' /tmp/cgz.old
	check "scx_zones: nothing attached" [ "$(scx_state)" = disabled ]
	for s in scx_netaware scx_avxfreq scx_mutex; do
		$s --cgroup $ZA > /tmp/cgz.old 2>&1
		rc=$?
		check "$s --cgroup: exit 1 (got $rc)" [ $rc -eq 1 ]
		check "$s --cgroup: one line says why ($(head -n1 /tmp/cgz.old))" \
			grep -q "^$s: --cgroup: this kernel has no sched_ext sub-schedulers" /tmp/cgz.old
		check "$s --cgroup: nothing attached" [ "$(scx_state)" = disabled ]
	done
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

# attach LOG SCHED ARGS...: start a zone's scheduler, wait until it says
# it attached; its pid in $SUB.
attach() {
	log=$1
	shift
	"$@" > "$log" 2>&1 &
	SUB=$!
	i=0
	while ! grep -q 'attached: ops' "$log" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	check "$1 attached to its zone" grep -q 'attached: ops' "$log"
}

# Two zones with different schedulers: netaware on CPUs 2-3, avxfreq on 1.
attach /tmp/cgz.suba scx_netaware --cgroup $ZA --json
SUBA=$SUB
attach /tmp/cgz.subb scx_avxfreq --cgroup $ZB --json
SUBB=$SUB
sleep 1.5
check "root: zones 0 and 1 up (z0_up $(last /tmp/cgz.root z0_up), z1_up $(last /tmp/cgz.root z1_up))" \
	[ "$(last /tmp/cgz.root z0_up)$(last /tmp/cgz.root z1_up)" = 11 ]
check "root: zone 0 has 2 CPUs, zone 1 one (z0_cpus $(last /tmp/cgz.root z0_cpus), z1_cpus $(last /tmp/cgz.root z1_cpus))" \
	[ "$(last /tmp/cgz.root z0_cpus)$(last /tmp/cgz.root z1_cpus)" = 21 ]
check "each zone's scheduler has its own stats socket" \
	[ -S /var/run/scx/cgroup/cz-za/stats -a -S /var/run/scx/cgroup/cz-zb/stats ]
check "the root keeps the default one" [ -S /var/run/scx/root/stats ]
czctl stats --socket /var/run/scx/cgroup/cz-za/stats --json > /tmp/cgz.st 2>&1
check "czctl stats reaches zone 0's scheduler (netaware)" grep -q '"wakeups"' /tmp/cgz.st
czctl stats --socket /var/run/scx/cgroup/cz-zb/stats --json > /tmp/cgz.st 2>&1
check "czctl stats reaches zone 1's scheduler (avxfreq)" grep -q '"cpu_scalar_ns"' /tmp/cgz.st

# Hogs in both zones and outside: each keeps to its CPUs.
in_cg $ZA stress-ng --cpu 4 -t 10 -q
H1=$!
in_cg $ZB stress-ng --cpu 2 -t 10 -q
H2=$!
in_cg $NOZONE stress-ng --cpu 2 -t 10 -q
H3=$!
sleep 2
a0=$(usage $ZA)
b0=$(usage $ZB)
o0=$(usage $NOZONE)
t0=$(now_cs)
bad_a=0
bad_b=0
for i in 1 2 3 4 5 6; do
	for c in $(cpus_of $ZA); do
		case $c in 2|3) ;; *) bad_a=$((bad_a + 1)); echo "zone 0 task on CPU $c" ;; esac
	done
	for c in $(cpus_of $ZB); do
		[ "$c" = 1 ] || { bad_b=$((bad_b + 1)); echo "zone 1 task on CPU $c"; }
	done
	sleep 1
done
a1=$(usage $ZA)
b1=$(usage $ZB)
o1=$(usage $NOZONE)
t1=$(now_cs)
ashare=$(( (a1 - a0) / (t1 - t0) / 100 ))
bshare=$(( (b1 - b0) / (t1 - t0) / 100 ))
oshare=$(( (o1 - o0) / (t1 - t0) / 100 ))
check "zone 0's tasks only on its CPUs 2-3 (misplaced samples: $bad_a)" [ $bad_a -eq 0 ]
check "zone 1's tasks only on its CPU 1 (misplaced samples: $bad_b)" [ $bad_b -eq 0 ]
# (A task's last CPU in /proc is stale while it waits, so the others'
# share, not their placement, says whether they took a zone's CPUs.)
# (The others share CPU 0 with the loaders and this script.)
check "CPU split: zone 0 ${ashare}% (150-210), zone 1 ${bshare}% (75-105), others ${oshare}% (55-105) of one CPU" \
	[ $ashare -ge 150 -a $ashare -le 210 -a $bshare -ge 75 -a $bshare -le 105 \
	  -a $oshare -ge 55 -a $oshare -le 105 ]
wait $H1 $H2 $H3
in_cg $ZA hackbench -g 1 -l 50
wait $!
check "hackbench in zone 0 ran to the end" [ $? -eq 0 ]
sleep 1.2
w=$(json_sum /tmp/cgz.suba wakeups)
check "zone 0's scheduler placed the zone's wakeups (netaware wakeups $w)" [ "${w:-0}" -gt 100 ]
n=$(json_sum /tmp/cgz.subb cpu_scalar_ns)
check "zone 1's scheduler charged its hogs (avxfreq cpu_scalar_ns $n)" [ "${n:-0}" -gt 1000000000 ]
zc=$(json_sum /tmp/cgz.root z0_cpu_us)
check "root: zone 0's CPU time reported (z0_cpu_us summed ${zc}us; its cgroup: $((a1 - a0))us in the 6 s window)" \
	[ "${zc:-0}" -gt $((a1 - a0)) ]
check "root dispatched both zones' schedulers (z0_runs $(json_sum /tmp/cgz.root z0_runs), z1_runs $(json_sum /tmp/cgz.root z1_runs))" \
	[ "$(json_sum /tmp/cgz.root z0_runs)" -gt 0 -a "$(json_sum /tmp/cgz.root z1_runs)" -gt 0 ]

# Switch zone 1's scheduler: zone 0's loader and tasks are untouched.
in_cg $ZA stress-ng --cpu 2 -t 6 -q
H1=$!
kill -INT $SUBB
wait $SUBB
rc=$?
check "zone 1's avxfreq stops on SIGINT: exit 0 (got $rc)" [ $rc -eq 0 ]
attach /tmp/cgz.subb2 scx_mutex --cgroup $ZB --json
SUBB=$SUB
in_cg $ZB stress-ng --cpu 2 -t 3 -q
H2=$!
sleep 1.5
check "zone 1 up again under mutex (z1_up $(last /tmp/cgz.root z1_up))" [ "$(last /tmp/cgz.root z1_up)" = 1 ]
wait $H2
sleep 1.2
n=$(json_sum /tmp/cgz.subb2 be_runs)
check "zone 1's mutex ran its tasks (be_runs $n)" [ "${n:-0}" -gt 0 ]
check "zone 0's loader untouched by the switch" kill -0 $SUBA
check "zone 0's scheduler still attached" grep -q '"wakeups"' /tmp/cgz.suba
wait $H1
check "zone 0's hogs ran through the switch" [ $? -eq 0 ]
kill -INT $SUBB
wait $SUBB
SUB=$SUBA

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
