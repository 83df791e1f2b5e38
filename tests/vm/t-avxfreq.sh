#!/bin/sh
# scx_avxfreq behaviour test, run inside a Control Zone VM.
#
# The VM has no real AVX downclocking and no PMU, so the policy runs on its
# model, and the test gives it a model that claims a large 256-bit cost.
# Asserts: bad models and values exit 2 with one line naming the problem,
# nothing attached; an AVX2 loop and a scalar loop pinned to one CPU split
# it ~50/50 under the fair class; under scx_avxfreq the saved XSAVE state
# classifies the AVX2 loop as AVX2 and the scalar loop not, and the scalar
# loop's share rises to what the model predicts, 1 / (1 + ratio), within 3
# points; an operator hint added and removed at run time (czctl add/del)
# classifies the scalar loop as AVX2 and stops; with compensation switched
# off live the split falls back to ~50% (within 5 points, as under the fair
# class: these two are sanity checks, the model's 3 points are the claim);
# a sleeper (cyclictest at 1 kHz) pinned next to the pair wakes within a
# quarter slice at the median while a waking task preempts a CPU whose task
# is ahead of it in vtime, and waits about a slice once preempt_on_wake=0.
# Then the counter path, which has no PMU to read here, is run on software
# clocks (--counters software): the BPF side must read them at every switch
# on every CPU (periods measured, none skipped), measure the 256-bit
# frequency ratio as 1.0 where the model says 0.6, and charge by the
# measurement: the pair splits ~50/50 again with compensation on.
#
# In detail (about 70 s of each boot): the model says 256-bit code runs at
# 60% of base with the license held 1 s; the loops are cz-vecloop's. Bad
# models, out-of-range tunables and bad hint rules exit 2 with one line
# naming the problem and attach nothing. Under the fair class the pair
# splits 50/50 within 5 points (a second window decides if a loaded host
# skewed the first). Under scx_avxfreq: the start-up lines name the model
# and the detection; source is XSAVE; the scalar loop's share of the CPU
# (from /proc/PID/schedstat) is 1 / (1 + 0.6) = 62.5% within 3 points;
# AVX2 time's share of the time the scheduler classified is the AVX2
# loop's share of the pair within 12 points (counting the scalar too
# would make it ~100%); compensation was credited; the live hint
# (czctl add avx2-comm=czvec-scalar) makes AVX2 time at least 80% of
# classified time, and removing it stops hinted runs; exited tasks leave
# their class; SIGINT exits 0. The counter path runs with the same model
# and two more scalar loops on a core of their own; the ratio is 1.0
# within 0.5% and the split 50/50 within 5 points.
. /cz/tests/lib.sh

# Seconds per measurement window. A share is off by at most the vtime gap
# at the window's edges, about one slice, unless the host stalls the vCPU
# for longer: under a busy host a longer window keeps that in bounds.
WIN=${AVX_WIN:-8}
CPU=1
SOCK=/var/run/scx/root/stats

echo "== scx_avxfreq on $(uname -r), $(nproc) CPUs"

# runtime PID: ns the task has run, from the kernel's schedstat.
runtime() { cut -d' ' -f1 "/proc/$1/schedstat"; }

# share A S: SHARE is S's share (percent, one decimal) of the CPU time A
# and S got over the next WIN seconds; A_NS and S_NS are their runtimes.
share() {
	a0=$(runtime "$1") s0=$(runtime "$2")
	sleep "$WIN"
	A_NS=$(($(runtime "$1") - a0)) S_NS=$(($(runtime "$2") - s0))
	SHARE=$(awk -v a="$A_NS" -v s="$S_NS" \
		'BEGIN { printf "%.1f", a + s ? 100 * s / (a + s) : 0 }')
}

# within X Y D: |X - Y| <= D (decimals).
within() { awk -v x="$1" -v y="$2" -v d="$3" 'BEGIN { e = x - y; exit !(e <= d && -e <= d) }'; }

# stat KEY: KEY from a fresh stats reply (totals since attach).
stat() { czctl stats --json > /tmp/av.json 2>/dev/null && json_key /tmp/av.json "$1"; }

# pct X Y: X's share of X + Y, percent, one decimal.
pct() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.1f", x + y ? 100 * x / (x + y) : 0 }'; }

# avx2_frac OLD NEW: AVX2 CPU time's share (percent) of all CPU time the
# scheduler classified between two stats replies. A share from one pair of
# replies, so how long the replies took does not matter.
avx2_frac() {
	a=$(($(json_key "$2" cpu_avx2_ns) - $(json_key "$1" cpu_avx2_ns)))
	b=$(($(json_key "$2" cpu_scalar_ns) - $(json_key "$1" cpu_scalar_ns)))
	pct $a $b
}

# snap FILE: a stats reply into FILE, then A's and S's runtimes into RA, RS,
# read right after it (the same skew at both ends of a window cancels).
snap() {
	czctl stats --json > "$1" 2>/dev/null
	RA=$(runtime $AVX) RS=$(runtime $SCAL)
}

# --- bad input: exit 2, one line naming the problem, nothing attached ---
printf 'base 3200\n128 3190\n256 3300\n512 2900\n' > /tmp/above.model
printf 'base 3200\n128 3190\nturbo 4000\n' > /tmp/key.model
printf 'base 3200\n128 3190\n256 31x7\n512 2900\n' > /tmp/num.model
bad_input() {	# bad_input WANT ARGS...
	want=$1
	shift
	scx_avxfreq "$@" > /tmp/bad.out 2>&1
	rc=$?
	lines=$(grep -cv '^Usage: \|^Try ' /tmp/bad.out)
	check "bad input '$*': exit 2 (got $rc), one line naming it ($(head -n1 /tmp/bad.out))" \
		[ $rc -eq 2 -a "$lines" -eq 1 -a -n "$(grep -F -- "$want" /tmp/bad.out)" ]
	check "bad input '$*': sched_ext stays disabled" [ "$(scx_state)" = disabled ]
}
bad_input '/tmp/above.model:3: 256-bit frequency 3300 MHz is above base 3200 MHz' \
	--model /tmp/above.model
bad_input "/tmp/key.model:3: unknown key 'turbo'" --model /tmp/key.model
bad_input "/tmp/num.model:3: '31x7' is not a frequency in MHz" --model /tmp/num.model
bad_input '/tmp/none.model: No such file or directory' --model /tmp/none.model
bad_input '--min-charge-pct: 0 is out of range [1, 100]' --min-charge-pct 0
bad_input '--compensate: 2 is out of range [0, 1]' --compensate 2
bad_input 'a comm has 1 to 15' --avx2-comm 0123456789abcdef
bad_input "--counters: 'on' is not auto, off or software" --counters on

# --- the pair: AVX2 loop and scalar loop on one CPU ---
cz-vecloop avx2 2> /tmp/vec.err &
AVX=$!
sleep 0.2
if ! kill -0 $AVX 2>/dev/null; then
	echo "SKIP: no AVX2 loop here ($(cat /tmp/vec.err)); XSAVE detection and the share are not tested"
	summary
	exit
fi
kill $AVX
taskset -c $CPU cz-vecloop avx2 &
AVX=$!
taskset -c $CPU cz-vecloop scalar &
SCAL=$!
sleep 1

# The fair class is the baseline, not the subject: on a heavily loaded host
# TCG can skew one window (seen once: 72%), so a second window decides.
share $AVX $SCAL
fair=$SHARE
echo "   fair class: scalar share $fair% (avx2 $A_NS ns, scalar $S_NS ns)"
if ! within "$fair" 50 5; then
	share $AVX $SCAL
	fair="$fair, then $SHARE"
	echo "   fair class, again: scalar share $SHARE% (avx2 $A_NS ns, scalar $S_NS ns)"
fi
check "fair class: the pair splits ~50/50 (scalar $fair%)" within "$SHARE" 50 5

# The model claims 256-bit code runs at 60% of base, and that a core keeps
# that license for 1 s: the scalar loop runs slowed all the time.
base=3200 f256=1920 minpct=50
printf 'base %s\n128 %s\n256 %s\n512 %s\nhold_us 1000000\n' \
	$base $base $f256 1600 > /tmp/t.model
want=$(awk -v f=$f256 -v b=$base -v m=$minpct \
	'BEGIN { r = f / b; if (r < m / 100) r = m / 100; printf "%.1f", 100 / (1 + r) }')

if ! sched_start /tmp/av.log scx_avxfreq --json --model /tmp/t.model; then
	bad "scx_avxfreq did not become enabled"
	cat /tmp/av.log
	kill $AVX $SCAL
	summary
	exit 1
fi
ok "enabled"
check "root/ops is 'avxfreq'" [ "$(scx_ops)" = avxfreq ]
wait_sock $SOCK 20
check "it reports the model and the detection at start" \
	sh -c "grep -q 'model /tmp/t.model: base 3200 MHz, 256-bit 1920 MHz (ratio 0.600)' /tmp/av.log &&
	       grep -q 'counters: none' /tmp/av.log && grep -q 'detection: saved XSAVE state' /tmp/av.log"
check "source: XSAVE state ($(stat source))" [ "$(stat source)" = 1 ]
sleep 1

share $AVX $SCAL
got=$SHARE
echo "   scx_avxfreq: scalar share $got%, model predicts $want% (avx2 $A_NS ns, scalar $S_NS ns)"
check "scx_avxfreq: scalar share $got% is the model's $want% within 3 points" \
	within "$got" "$want" 3

snap /tmp/x0.json
a0=$RA s0=$RS
sleep 4
snap /tmp/x1.json
loops=$(pct $((RA - a0)) $((RS - s0)))
frac=$(avx2_frac /tmp/x0.json /tmp/x1.json)
check "XSAVE: the AVX2 loop is classified AVX2 ($(json_key /tmp/x1.json avx2_tasks) tasks, by_xsave $(json_key /tmp/x1.json by_xsave))" \
	[ "$(json_key /tmp/x1.json avx2_tasks)" -ge 1 -a "$(json_key /tmp/x1.json by_xsave)" -gt 0 ]
check "XSAVE: AVX2 time is $frac% of classified time, the AVX2 loop's share of the pair is $loops% (scalar counted too: ~100%)" \
	within "$frac" "$loops" 12
check "compensation credited ($(stat credit_ns) ns)" [ "$(stat credit_ns)" -gt 0 ]

# Hint path: the scalar loop named an AVX2 task at run time is one (both
# loops' CPU time is then AVX2 time), and stops being one when the rule goes.
czctl add avx2-comm=czvec-scalar > /tmp/add.out 2>&1
rc=$?
check "czctl add avx2-comm=czvec-scalar: exit 0 (got $rc: $(cat /tmp/add.out))" [ $rc -eq 0 ]
sleep 1
snap /tmp/h0.json
sleep 4
snap /tmp/h1.json
h0=$(json_key /tmp/h0.json by_hint) h1=$(json_key /tmp/h1.json by_hint)
frac=$(avx2_frac /tmp/h0.json /tmp/h1.json)
check "hint: scalar runs classified by the hint ($h0 -> $h1 by_hint, $(json_key /tmp/h1.json avx2_tasks) AVX2 tasks)" \
	[ "$h1" -gt "$h0" -a "$(json_key /tmp/h1.json avx2_tasks)" -ge 2 ]
check "hint: AVX2 time is $frac% of classified time (both loops; without the hint: $loops%)" \
	[ "${frac%.*}" -ge 80 ]
czctl del avx2-comm=czvec-scalar > /dev/null 2>&1
sleep 1
h0=$(stat by_hint)
sleep 1
check "hint removed: no more hinted runs ($h0 -> $(stat by_hint))" [ "$(stat by_hint)" = "$h0" ]

czctl set compensate=0 > /dev/null
sleep 1
share $AVX $SCAL
off=$SHARE
echo "   scx_avxfreq, compensate=0: scalar share $off%"
check "compensate=0 live: back to ~50/50 (scalar $off%)" within "$off" 50 5

p0=$(stat wake_preempt)
on=$(sleeper_p50 $CPU)
p1=$(stat wake_preempt)
czctl set preempt_on_wake=0 > /dev/null
off=$(sleeper_p50 $CPU)
echo "   sleeper next to the pair: median wakeup $on us preempting ($((p1 - p0)) preemptions), $off us with preempt_on_wake=0"
check "preempt_on_wake=1: the sleeper wakes within a quarter slice at the median ($on us < 5000 us, $((p1 - p0)) preemptions)" \
	[ "${on#>}" -lt 5000 -a $((p1 - p0)) -gt 0 ]
check "preempt_on_wake=0: the sleeper waits about a slice ($off us >= 10000 us)" \
	[ "${off#>}" -ge 10000 ]

kill $AVX $SCAL
wait $AVX $SCAL 2>/dev/null
sleep 0.5
check "exited tasks leave their class ($(stat avx2_tasks) AVX2 tasks)" \
	[ "$(stat avx2_tasks)" -eq 0 ]
sched_stop
rc=$?
check "clean exit (got $rc)" [ $rc -eq 0 ]

# --- the counter path on software clocks ---
# Two scalar loops on a core of their own give periods nobody slowed (the
# scalar frequency's samples); the pair gives the AVX2 level's.
taskset -c $CPU cz-vecloop avx2 &
AVX=$!
taskset -c $CPU cz-vecloop scalar &
SCAL=$!
OTHER=$(($(nproc) - 1))
taskset -c $OTHER cz-vecloop scalar &
O1=$!
taskset -c $OTHER cz-vecloop scalar &
O2=$!
if ! sched_start /tmp/avc.log scx_avxfreq --json --model /tmp/t.model --counters software; then
	bad "scx_avxfreq --counters software did not become enabled"
	cat /tmp/avc.log
else
	wait_sock $SOCK 20
	check "it reports the software clocks" \
		grep -q 'counters: software cpu-clock as both clocks' /tmp/avc.log
	sleep 2
	share $AVX $SCAL
	got=$SHARE
	czctl stats --json > /tmp/c1.json 2>/dev/null
	echo "   --counters software: scalar share $got%, ratio_avx2_pm $(json_key /tmp/c1.json ratio_avx2_pm)," \
		"periods $(json_key /tmp/c1.json ctr_periods), skipped $(json_key /tmp/c1.json ctr_skipped)," \
		"loose $(json_key /tmp/c1.json ctr_loose)," \
		"credit $(json_key /tmp/c1.json credit_ns) ns"
	check "counters: frequencies from the clocks (freq_source $(json_key /tmp/c1.json freq_source))" \
		[ "$(json_key /tmp/c1.json freq_source)" = 2 ]
	check "counters: periods measured ($(json_key /tmp/c1.json ctr_periods)), none skipped ($(json_key /tmp/c1.json ctr_skipped))" \
		[ "$(json_key /tmp/c1.json ctr_periods)" -gt 100 -a "$(json_key /tmp/c1.json ctr_skipped)" -eq 0 ]
	check "counters: 256-bit ratio measured 1.0, not the model's 0.6 ($(json_key /tmp/c1.json ratio_avx2_pm) per mille)" \
		within "$(json_key /tmp/c1.json ratio_avx2_pm)" 1000 5
	check "counters: charged by the measurement, the pair splits ~50/50 (scalar $got%, the model alone: $want%)" \
		within "$got" 50 5
	sched_stop
	rc=$?
	check "--counters software: clean exit (got $rc)" [ $rc -eq 0 ]
fi
kill $AVX $SCAL $O1 $O2
wait $AVX $SCAL $O1 $O2 2>/dev/null
summary
