#!/bin/sh
#
# avxfreq.sh: the pair experiment of Gottschlag et al. (ATC 2021) for
# scx_avxfreq: a scalar loop and a wide-vector loop (AVX-512 where the CPU
# has it, else AVX2) pinned to one CPU, each first alone, then together
# under the default fair scheduler and under scx_avxfreq (the built-in
# model, then a model claiming a larger cost), in one boot.
#
#   scripts/bench/avxfreq.sh [--kernel V] [--duration SECS]   in a zone VM
#   scripts/bench/avxfreq.sh --native [--duration SECS]       on this machine
#                                        (its kernel must have sched_ext)
#
# Work is cz-vecloop's iteration count; CPU time comes from schedstat over
# a window that leaves out each run's first and last second.
# slowdown = 1 - paired work / solo work, per loop; unfairness =
# |slowdown(scalar) - slowdown(wide)|, in points: on hardware whose AVX
# code lowers the frequency, these measured columns are the experiment.
# In a VM (no downclocking, no PMU, and TCG's speed varies with the host's
# load, so work counts from different runs do not compare) the model
# columns are the ones to read: slowdown from the CPU-time share (solo, a
# loop has the whole CPU), the scalar's counted at the model's frequency
# ratio (what it would have got next to the wide loop), and the scalar's
# share against the share the model predicts. After each scx_avxfreq row a
# comment line gives what the scheduler detected and the frequency ratios
# it charged by (the model's, or measured where the machine has counters).
# A benchmark, not a test: it asserts nothing.

if [ "${1:-}" != --guest ]; then
	# shellcheck source=scripts/bench/host.sh
	. "$(dirname "$0")/host.sh"
	vm='' dur=10 native=no
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) vm="$vm $1 $2"; shift 2 ;;
		--duration) dur=$2; shift 2 ;;
		--native) native=yes; shift ;;
		*) echo "usage: avxfreq.sh [--kernel V | --native] [--duration SECS]" >&2; exit 2 ;;
		esac
	done
	bench_count --duration "$dur"
	bench_exec $native "$vm" "scx_avxfreq cz-vecloop taskset" "$dur"
fi

# shellcheck source=tests/vm/lib.sh
. "${CZ_LIB:-/cz/tests/lib.sh}"
dur=$2
bench_setup
CPU=1

wide=avx2 width=256
cz-vecloop avx512 1 > /dev/null 2>&1 && wide=avx512 width=512
base=3200 cost=1920	# the larger claimed cost: wide code at 60% of base
printf 'base %s\n128 %s\n256 %s\n512 %s\nhold_us 1000000\n' \
	$base $base $cost $cost > "$TMP/cost.model"

# work MODE...: run each loop pinned to CPU, together, for dur + 2 s;
# prints each one's iteration count, then each one's CPU time (ns) in the
# window from 1 s after the start to 1 s before the end (schedstat), so
# that start-up and the loops' staggered exits do not count.
work() {
	i=0 pids=
	for m in "$@"; do
		taskset -c $CPU cz-vecloop "$m" $((dur + 2)) > "$TMP/w$i" &
		pids="$pids $!"
		i=$((i + 1))
	done
	sleep 1
	t0=$(for p in $pids; do cut -d' ' -f1 /proc/$p/schedstat; done)
	sleep "$dur"
	t1=$(for p in $pids; do cut -d' ' -f1 /proc/$p/schedstat; done)
	wait
	i=0
	for m in "$@"; do
		cut -d' ' -f2 "$TMP/w$i"
		i=$((i + 1))
	done
	echo $t0 $t1 | awk '{ n = NF / 2; for (i = 1; i <= n; i++) print $(i + n) - $i }'
}

set -- $(work scalar)
solo_s=$1
set -- $(work $wide)
solo_w=$1

# row NAME RATIO PREDICTED SCALAR_WORK WIDE_WORK SCALAR_NS WIDE_NS: one
# line from the paired counts; RATIO is the model's frequency ratio for
# the scalar loop next to the wide one. Solo, a loop has the whole CPU.
row() {
	awk -v name="$1" -v r="$2" -v pred="$3" -v ps="$4" -v pw="$5" \
	    -v pst="$6" -v pwt="$7" -v ss="$solo_s" -v sw="$solo_w" '
	function abs(x) { return x < 0 ? -x : x }
	BEGIN {
		share = pst / (pst + pwt)
		sd_s = 1 - ps / ss; sd_w = 1 - pw / sw
		msd_s = 1 - share * r; msd_w = share
		printf "%-28s %8.1f%% %7s %8.1f%% %8.1f%% %7.1f %8.1f%% %8.1f%% %7.1f\n",
			name, 100 * share, pred, 100 * sd_s, 100 * sd_w,
			100 * abs(sd_s - sd_w), 100 * msd_s, 100 * msd_w,
			100 * abs(msd_s - msd_w)
	}'
}

# model_of FILE: the model's ratio for the wide loop's level (clamped at
# the default 50%) and the scalar share scx_avxfreq should give, assuming
# the wide loop runs one 20 ms slice at a time and the scalar's first
# hold_us after it are slowed.
model_of() {
	awk -v w="$width" '$1 == "base" { b = $2 } $1 == w { f = $2 }
		$1 == "hold_us" { h = $2 }
		END {
			split(f, p, "-"); if (p[2] != "") f = int((p[1] + p[2]) / 2)
			r = f / b; if (r < 0.5) r = 0.5; L = 20000
			# the scalar runs until charged one slice; slowed for hold_us
			Ls = h * r >= L ? L / r : L + h * (1 - r)
			printf "%.4f %.1f%%\n", r, 100 * Ls / (Ls + L)
		}' "$1"
}
printf 'base 3200\n128 3184-3191\n256 3147\n512 2949-2967\nhold_us 2000\n' > "$TMP/default.model"

echo "# kernel $(uname -r), $(nproc) CPUs; loops pinned to CPU $CPU for $dur s a run; wide loop: $wide"
echo "# solo work: scalar $solo_s, $wide $solo_w iterations"
echo "# scalar: its CPU-time share paired; wanted: the model's prediction; sd_*:"
echo "# slowdown vs solo by work; unfair: |sd_scal - sd_wide| (points); m_*: the"
echo "# same by CPU time, the scalar's counted at the model's frequency ratio"
printf '%-28s %9s %7s %9s %9s %7s %9s %9s %7s\n' config scalar wanted sd_scal sd_wide \
	unfair m_sd_scal m_sd_wide m_unfair
fair=$(work scalar $wide)
for m in default cost; do
	set -- $(model_of "$TMP/$m.model")
	row "fair ($m model)" "$1" - $fair
done
for m in default cost; do
	set -- $(model_of "$TMP/$m.model")
	sched_start "$TMP/$m.log" scx_avxfreq --model "$TMP/$m.model" --stats-socket none --json ||
		{ echo "scx_avxfreq did not start"; cat "$TMP/$m.log"; continue; }
	sleep 1
	row "scx_avxfreq ($m model)" "$1" "$2" $(work scalar $wide)
	sched_stop
	grep -h 'counters:' "$TMP/$m.log" | sed 's/^/# /'
	grep '"total":true' "$TMP/$m.log" > "$TMP/$m.total"
	printf '# source %s, freq_source %s, ratio_avx2_pm %s, ratio_avx512_pm %s, by_xsave %s, by_counter %s, ctr_periods %s, ctr_skipped %s\n' \
		"$(json_key "$TMP/$m.total" source)" "$(json_key "$TMP/$m.total" freq_source)" \
		"$(json_key "$TMP/$m.total" ratio_avx2_pm)" "$(json_key "$TMP/$m.total" ratio_avx512_pm)" \
		"$(json_key "$TMP/$m.total" by_xsave)" "$(json_key "$TMP/$m.total" by_counter)" \
		"$(json_key "$TMP/$m.total" ctr_periods)" "$(json_key "$TMP/$m.total" ctr_skipped)"
done
