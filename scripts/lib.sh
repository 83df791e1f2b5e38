# shellcheck shell=bash
#
# Shared shell helpers for controlzone's scripts: logging, privilege, the
# download cache, and a private apt configuration for suites the machine
# does not list (trixie-backports kernels, trixie sources), so that fetching
# a kernel or a source package never touches the system's apt state.
#
# Sourced, not executed.

CZ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CZ_CACHE=${CZ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/controlzone}
CZ_BUILD=${CZ_BUILD:-$CZ_ROOT/build}

cz_log() { printf '[cz] %s\n' "$*" >&2; }
cz_die() { printf 'error: %s\n' "$*" >&2; exit "${CZ_DIE_CODE:-1}"; }

# Run a command as root: directly when we are root, else through sudo.
cz_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The Debian mirror the machine's own apt sources name (deb822 or one-line).
cz_mirror() {
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security |
		head -n1 | tr -d ' ')
	echo "${m:-http://deb.debian.org/debian}"
}

# cz_papt SUBCOMMAND ARGS...: apt-get/apt-cache against a private state dir
# listing trixie-backports (binaries) and trixie (sources). The package lists
# are refreshed at most once a day.
cz_papt_init() {
	local d=$CZ_CACHE/apt mirror
	mkdir -p "$d/lists/partial" "$d/archives/partial"
	mirror=$(cz_mirror)
	printf 'deb %s trixie-backports main\ndeb-src %s trixie main\n' \
		"$mirror" "$mirror" > "$d/sources.list.new"
	if ! cmp -s "$d/sources.list.new" "$d/sources.list" 2>/dev/null; then
		mv "$d/sources.list.new" "$d/sources.list"
		rm -f "$d/updated"
	else
		rm -f "$d/sources.list.new"
	fi
	CZ_PAPT_OPTS=(-o "Dir::Etc::SourceList=$d/sources.list"
		-o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d"
		-o "Dir::Cache::archives=$d/archives"
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root -q)
	if [ -z "$(find "$d/updated" -mmin -1440 2>/dev/null)" ]; then
		cz_log "refreshing private apt lists (trixie-backports, trixie sources)"
		apt-get "${CZ_PAPT_OPTS[@]}" update >/dev/null ||
			cz_die "apt-get update (private lists for trixie-backports) failed"
		touch "$d/updated"
	fi
}
cz_papt_get() { apt-get "${CZ_PAPT_OPTS[@]}" "$@"; }
cz_papt_cache() { apt-cache "${CZ_PAPT_OPTS[@]}" "$@"; }

# The scheduler binaries the build produced, space separated.
cz_built_scheds() {
	find "$CZ_BUILD/scheds" -maxdepth 1 -type f -perm -u+x -name 'scx_*' \
		-printf '%f ' 2>/dev/null
}
