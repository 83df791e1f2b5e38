#!/bin/sh
# What `meson install` ships, on the host (no VM): installed into a
# temporary DESTDIR from $CZ_BUILD (built already: --no-rebuild).
#
# Asserts: the install succeeds; the installed files are exactly the
# expected list: scx_NAME for every directory under scheds/, czctl,
# cz-corun, cz-agent and cz-exporter in sbindir, a man page in man8 for
# each, controlzone.service and controlzone-zone@.service in systemd's
# unit directory, sysconfdir/default/controlzone, and every
# vmconfigs/*.yaml under datadir/doc/controlzone/examples/zones (the
# same bytes); no test helper (tests/helpers/*.c, test_lib) anywhere;
# every binary's --version is "NAME (controlzone) VERSION" with the
# project's version; every man page renders with groff -ww without a
# warning, names its binary in NAME, has the hand-written EXIT STATUS
# section and every long option its binary's --help lists (so it was
# generated from that binary, not a stale stub); the units carry no
# unsubstituted @VAR@; systemd-analyze verify passes on them, with their
# paths moved into DESTDIR (it checks that ExecStart/ExecStop programs
# exist and that Documentation= man pages open), silently; every program
# a unit runs (an Exec line's first word, and the installed paths inside
# a `sh -c` script, variables taken from the defaults file) is installed;
# and both unit checks FAIL on a copy of a unit broken on purpose (a
# program that is not installed), so they can fail.
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$root/tests/vm/lib.sh"
CZ_BUILD=${CZ_BUILD:-$root/build}
W=$(mktemp -d /tmp/cz-t-install.XXXXXX)
trap 'rm -rf "$W"' EXIT
D=$W/dest
echo "== meson install, into $D"

DESTDIR=$D meson install -C "$CZ_BUILD" --no-rebuild --quiet > "$W/install.out" 2>&1
rc=$?
check "meson install --no-rebuild into a DESTDIR: exit 0 (got $rc: $(tail -n1 "$W/install.out"))" \
	[ $rc -eq 0 ]

# The build's install directories, as meson resolves them: absolute, or
# relative to the prefix.
meson introspect "$CZ_BUILD" --buildoptions > "$W/opts.json"
opt() {
	v=$(jq -r --arg n "$1" '.[] | select(.name == $n) | .value' "$W/opts.json")
	case "$v" in
	/*) echo "$v" ;;
	*) echo "$prefix/$v" ;;
	esac
}
prefix=$(jq -r '.[] | select(.name == "prefix") | .value' "$W/opts.json")
sbindir=$(opt sbindir)
man8=$(opt mandir)/man8
sysconfdir=$(opt sysconfdir)
examples=$(opt datadir)/doc/controlzone/examples/zones
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
[ -n "$unitdir" ] || unitdir=$prefix/lib/systemd/system
version=$(meson introspect "$CZ_BUILD" --projectinfo | jq -r .version)

bins=$(for d in "$root"/scheds/*/; do
	n=$(basename "$d")
	echo "scx_$n"
done; echo czctl cz-corun cz-agent cz-exporter | tr ' ' '\n')
{
	for b in $bins; do
		echo "$sbindir/$b"
		echo "$man8/$b.8"
	done
	echo "$unitdir/controlzone.service"
	echo "$unitdir/controlzone-zone@.service"
	echo "$sysconfdir/default/controlzone"
	for y in "$root"/vmconfigs/*.yaml; do
		echo "$examples/$(basename "$y")"
	done
} | sort > "$W/expected"
(cd "$D" 2>/dev/null && find . ! -type d | sed 's/^\.//' | sort) > "$W/installed"
diff "$W/expected" "$W/installed" | grep '^[<>]' > "$W/diff"
check "installed files: exactly the $(wc -l < "$W/expected") expected ($(sed 's/^</missing/; s/^>/extra/' "$W/diff" | paste -sd, | cut -c1-300))" \
	[ ! -s "$W/diff" ]

helpers=$(for c in "$root"/tests/helpers/*.c; do basename "$c" .c; done; echo test_lib)
found=$(for h in $helpers; do find "$D" -name "$h*"; done)
check "no test helper installed ($(echo "$helpers" | paste -sd,): ${found:-none})" \
	[ -z "$found" ]

same=yes
for y in "$root"/vmconfigs/*.yaml; do
	cmp -s "$y" "$D$examples/$(basename "$y")" || same="no: $(basename "$y")"
done
check "example zone files: the same bytes as vmconfigs/*.yaml ($same)" [ "$same" = yes ]

# ---- binaries and their man pages ----
for b in $bins; do
	v=$("$D$sbindir/$b" --version 2>&1 | head -n1)
	check "$b --version: '$b (controlzone) $version' (got '$v')" \
		[ "$v" = "$b (controlzone) $version" ]

	page=$D$man8/$b.8
	if [ ! -f "$page" ]; then
		bad "$b.8: not installed"
		continue
	fi
	groff -man -Tutf8 -ww -z "$page" > "$W/groff" 2>&1
	rc=$?
	check "$b.8: groff -man -ww renders it without a warning (exit $rc: $(head -n1 "$W/groff"))" \
		[ $rc -eq 0 -a ! -s "$W/groff" ]
	MANWIDTH=100 man -l "$page" > "$W/page" 2>/dev/null
	check "$b.8: man -l shows NAME '$b - ...' ($(grep -A1 '^NAME' "$W/page" | tail -n1 | cut -c1-70))" \
		sh -c "grep -A1 '^NAME' '$W/page' | tail -n1 | grep -qE '^ *$b +- ' &&
			! grep -q 'manual page for' '$W/page'"
	check "$b.8: has the hand-written EXIT STATUS section" \
		sh -c "grep -q '^\.SH \"EXIT STATUS\"' '$page' && grep -q '^EXIT STATUS' '$W/page'"
	"$D$sbindir/$b" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u > "$W/opts"
	sed 's/\\-/-/g' "$page" > "$W/src"
	missing=$(while read -r o; do grep -qF -- "$o" "$W/src" || echo "$o"; done < "$W/opts" | paste -sd' ')
	check "$b.8: lists all $(wc -l < "$W/opts") long options of its --help (missing: ${missing:-none})" \
		[ -s "$W/opts" -a -z "$missing" ]
done

# ---- units ----
left=$(grep -l '@[a-z_]*@' "$D$unitdir"/* 2>/dev/null | xargs -r -n1 basename)
check "units: every @VAR@ substituted (${left:-all})" [ -z "$left" ]

# A unit's installed paths moved into DESTDIR, for systemd-analyze.
mkdir -p "$W/units" "$W/broken"
for u in "$D$unitdir"/*; do
	sed "s#$prefix/#$D$prefix/#g" "$u" > "$W/units/$(basename "$u")"
done
# verify_units DIR: systemd-analyze verify on every unit there, with the
# DESTDIR's man pages; 0 only when it passes and says nothing.
verify_units() {
	MANPATH=$D$(opt mandir) systemd-analyze verify "$1"/* > "$W/verify" 2>&1 &&
		[ ! -s "$W/verify" ]
}
verify_units "$W/units"
rc=$?
check "systemd-analyze verify: both units pass, silently ($(head -n1 "$W/verify"))" [ $rc -eq 0 ]

# exec_missing UNIT: the programs UNIT runs that are not installed
# (installed paths are looked for in DESTDIR, others on this host).
exec_missing() {
	# shellcheck disable=SC1090,SC1091 # the installed defaults file
	. "$D$sysconfdir/default/controlzone"
	grep -E '^Exec[A-Za-z]*=' "$1" | while IFS= read -r line; do
		cmd=${line#*=}
		cmd=$(echo "$cmd" | sed 's/^[-@:+!]*//')
		# The program, and every installed program named in its
		# arguments (a `sh -c` script's).
		{
			echo "$cmd" | cut -d' ' -f1
			echo "$cmd" | grep -oE "$sbindir/[^\"' ]+"
		} | sort -u | while read -r p; do
			case "$p" in
			*'$'*)	# $${VAR...}: the defaults file's value
				var=$(echo "$p" | sed -E 's/.*\$\{?([A-Za-z_]+).*/\1/')
				eval "val=\${$var:-}"
				# shellcheck disable=SC2154 # set by eval
				p=${p%%\$*}$val ;;
			esac
			case "$p" in
			"$prefix"/*) [ -x "$D$p" ] && [ -f "$D$p" ] || echo "$p" ;;
			*) [ -x "$p" ] || echo "$p" ;;
			esac
		done
	done
}
for u in "$D$unitdir"/*; do
	m=$(exec_missing "$u" | paste -sd' ')
	check "$(basename "$u"): every program it runs is installed (missing: ${m:-none})" [ -z "$m" ]
done

# The checks above must be able to fail: a unit broken on purpose.
sed "s#$sbindir/czctl zone down#$sbindir/czctl-gone zone down#" \
	"$D$unitdir/controlzone-zone@.service" > "$W/broken.service"
m=$(exec_missing "$W/broken.service" | paste -sd' ')
check "a unit naming a program not installed is caught ($m)" [ "$m" = "$sbindir/czctl-gone" ]
sed "s#$prefix/#$D$prefix/#g" "$W/broken.service" > "$W/broken/controlzone-zone@.service"
verify_units "$W/broken"
rc=$?
check "systemd-analyze verify fails on it too ($(head -n1 "$W/verify"))" [ $rc -ne 0 ]

summary
