# The host side every benchmark in scripts/bench shares (POSIX sh,
# sourced): run the script's guest part, the same file with --guest ARGS,
# in a Control Zone VM through vm-run, or with --native on this machine,
# whose kernel must then have sched_ext and no scheduler attached.
#
# Natively is how the issues' hardware targets get measured (SMT
# siblings that share a pipeline, AVX downclocking, IPIs that cost
# microseconds): TCG has none of these. The guest part finds the helpers
# in $CZ_LIB (tests/vm/lib.sh: /cz/tests/lib.sh in a zone, the checkout's
# natively), so both runs measure with the same code, and keeps its files
# in a directory of its own (bench_setup), not in fixed /tmp names.
#
# --plot: the guest part prints its latency distributions among its
# output (tests/vm/lib.sh: plot_fig, cdf_*), which never reach the
# terminal; with BENCH_PLOT=yes bench_collect files them and bench_plot
# draws them (gnuplot) into BENCH_OUT, a new /tmp directory by default.
BENCH_PLOT=no
BENCH_OUT=

bench_root=$(cd "$(dirname "$0")/../.." && pwd)

bench_die() {
	echo "${0##*/}: $*" >&2
	exit 2
}

# bench_count OPTION VALUE: VALUE is a whole number >= 1, or a one-line
# error and exit 2.
bench_count() {
	case "$2" in
	''|*[!0-9]*|0*) bench_die "$1: '$2' is not a whole number >= 1" ;;
	esac
}

# bench_exec NATIVE " VM-RUN OPTIONS" "COMMANDS" ARGS...: run the guest
# part with ARGS, then draw its plots with BENCH_PLOT=yes; exits with the
# guest part's status (vm-run's: 124 timeout, 125 guest kernel trouble).
# Each VM-RUN option follows a space. Natively every one of COMMANDS must
# be on PATH, after the build's scheds/ and tools/; any refusal is one
# line, exit 2.
bench_exec() {
	native=$1 vmopts=$2 needs=$3
	shift 3
	bench_plot_setup
	if [ "$native" = yes ]; then
		[ -z "$vmopts" ] || bench_die "--native cannot take$vmopts (options of a zone VM)"
		[ -d /sys/kernel/sched_ext ] ||
			bench_die "--native: the running kernel has no sched_ext (without --native a zone VM runs the benchmark)"
		[ "$(cat /sys/kernel/sched_ext/state)" = disabled ] ||
			bench_die "--native: a sched_ext scheduler is attached ($(cat /sys/kernel/sched_ext/root/ops 2>/dev/null)); stop it first"
		[ "$(id -u)" = 0 ] || bench_die "--native: needs root"
		build=${CZ_BUILD:-$bench_root/build}
		PATH=$build/scheds:$build/tools/czctl:$build/tools:$build/tests/helpers:$PATH
		for c in $needs; do
			command -v "$c" > /dev/null ||
				bench_die "--native: '$c' is not installed (or not built: scripts/setup)"
		done
		CZ_LIB=$bench_root/tests/vm/lib.sh
		export PATH CZ_LIB
	fi
	rc=$(mktemp) && log=$(mktemp) || exit 1
	trap 'rm -f "$rc" "$log"' EXIT
	# The guest part's status survives the pipe through a file. The output
	# reaches the terminal line by line (grep; awk would read the pipe in
	# blocks) and is kept whole for bench_collect.
	{
		if [ "$native" = yes ]; then
			sh "$0" --guest "$@"
		else
			# shellcheck disable=SC2086 # vm-run options, one word each
			"$bench_root/scripts/vm-run" $vmopts --timeout 1800 -- \
				sh "/cz/bench/${0##*/}" --guest "$@"
		fi
		echo $? > "$rc"
	} | tee "$log" | grep --line-buffered -v -e '^CZ-PLOT	' -e '^CZ-CDF	'
	status=$(cat "$rc")
	if [ "$BENCH_PLOT" = yes ]; then
		bench_collect "$BENCH_OUT" < "$log" > /dev/null
		# A plot that fails fails the run, whatever the guest said.
		bench_plot "$BENCH_OUT" || [ "${status:-1}" != 0 ] || status=1
	fi
	exit "${status:-1}"
}

# bench_plot_setup: with BENCH_PLOT=yes, gnuplot is there and BENCH_OUT
# exists (a new /tmp directory unless --out named one); --out without
# --plot is refused. Refusals are one line, exit 2, before anything runs.
bench_plot_setup() {
	if [ "$BENCH_PLOT" = yes ]; then
		command -v gnuplot > /dev/null || bench_die "--plot needs gnuplot (gnuplot-nox)"
		BENCH_OUT=${BENCH_OUT:-$(mktemp -d "/tmp/cz-${0##*/}.XXXXXX")}
		mkdir -p "$BENCH_OUT" || bench_die "--out: cannot create $BENCH_OUT"
	elif [ -n "$BENCH_OUT" ]; then
		bench_die "--out takes --plot's files; give --plot too"
	fi
}

# bench_collect DIR: pass stdin through, but for the CZ-PLOT and CZ-CDF
# lines, which become DIR/FIG.plot (title, x label), DIR/FIG.series (a
# line per series) and DIR/FIG.N.dat (value, share: series N).
bench_collect() {
	awk -F '\t' -v dir="$1" '
	$1 == "CZ-PLOT" && NF == 4 {
		f = dir "/" $2 ".plot"; print $3 > f; print $4 > f; close(f)
		next
	}
	$1 == "CZ-CDF" && NF == 5 {
		if (!(($2, $3) in idx)) {
			idx[$2, $3] = ++nser[$2]
			print $3 > (dir "/" $2 ".series")
		}
		print $4, $5 > (dir "/" $2 "." idx[$2, $3] ".dat")
		next
	}
	{ print }'
}

# bench_plot DIR: each figure in DIR as FIG.png and FIG.svg, a line per
# series, share of samples over latency (log scale), drawn as steps: a
# share holds from its point to the next; one line each.
bench_plot() {
	found=no
	for p in "$1"/*.plot; do
		[ -f "$p" ] || continue
		found=yes
		fig=$(basename "$p" .plot)
		{
			echo "set terminal pngcairo size 1000,650 noenhanced"
			echo "set output '$fig.png'"
			echo "set title '$(sed -n 1p "$p" | tr -d "'")' font ',10'"
			echo "set xlabel '$(sed -n 2p "$p" | tr -d "'")'"
			echo "set ylabel 'share of samples at or below'"
			echo "set logscale x; set grid; set key top left box opaque; set yrange [0:1]; set rmargin 6"
			# gnuplot's fifth colour, a pale yellow, is hard to see on white.
			echo "set linetype 5 linecolor rgb '#a07800'"
			printf 'plot '
			awk -v fig="$fig" '{
				gsub(/\047/, "")
				printf "%s\047%s.%d.dat\047 using 1:2 with steps linewidth 2 title \047%s\047",
					(NR > 1 ? ", " : ""), fig, NR, $0
			} END { print "" }' "$1/$fig.series"
			echo "set terminal svg size 1000,650 dynamic noenhanced; set output '$fig.svg'; replot"
		} > "$1/$fig.gp"
		(cd "$1" && gnuplot "$fig.gp") || { echo "${0##*/}: gnuplot failed on $1/$fig.gp" >&2; return 1; }
		echo "plot: $1/$fig.png, .svg"
	done
	[ $found = yes ] || { echo "${0##*/}: no latency distribution to plot in $1" >&2; return 1; }
}
