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
# part with ARGS (never returns); each VM-RUN option follows a space.
# Natively every one of COMMANDS must be on PATH, after the build's
# scheds/ and tools/; any refusal is one line, exit 2.
bench_exec() {
	native=$1 vmopts=$2 needs=$3
	shift 3
	if [ "$native" != yes ]; then
		# shellcheck disable=SC2086 # vm-run options, one word each
		exec "$bench_root/scripts/vm-run" $vmopts --timeout 1800 -- \
			sh "/cz/bench/${0##*/}" --guest "$@"
	fi
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
	exec sh "$0" --guest "$@"
}
