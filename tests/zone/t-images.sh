#!/bin/sh
# The scheduler images (scripts/build-images), on the host (no VM): built
# from $CZ_BUILD under a test-only tag, checked, and removed again. Runs
# as root (podman image mount); podman uses deploy/images/containers.conf
# unless CONTAINERS_CONF is set.
#
# Then a zone (kernel: the first pinned one) whose scheduler and service
# come from images: controlzone/scx_netaware:TAG and an application image
# of redis-server built here the same way (its files and ldd's list).
#
# Asserts: build-images exits 0 and makes controlzone/scx_NAME:TAG for
# every directory under scheds/; in each image, `podman run --rm IMAGE
# --version` prints "scx_NAME (controlzone) VERSION" (the project's
# version), `--help` exits 0 with the same text as the built binary's,
# and czctl runs (--version) when made the entrypoint; the image's files
# are exactly /usr/sbin/scx_NAME, /usr/sbin/czctl and the files ldd lists
# for the two (read from `podman image mount`; the comparison is also
# shown to fail on an expected list that lacks the dynamic loader), with
# the build's bytes; the labels org.opencontainers.image.version, .title,
# .source and .description are set (version and title to the right
# values), the entrypoint is /usr/sbin/scx_NAME and the stop signal
# SIGINT; a rebuild leaves no untagged image; bad usage (an unknown
# option, an unknown scheduler, --tag without a value, a bad tag) exits 2
# with one line on stderr and builds nothing; `zone check` of a zone
# naming an image that is not here, a scheduler or a service program its
# image lacks: exit 2, one line FILE:LINE: KEY: problem, nothing left
# mounted; the zone comes up; in it sched_ext runs netaware, its loader's
# executable is /cz/images/0/usr/sbin/scx_netaware (the image's files,
# chrooted) with the file's arguments, redis-server's is the application
# image's under /cz/images/1 and answers PING through the forwarded port,
# `zone stats` reads the image scheduler's socket; a switch to the
# zone's own scx_central and back runs the image's scx_netaware again; no
# image stays mounted on the host; and at the end podman's image list is
# what it was before the test.
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$root/tests/vm/lib.sh"
CZ_BUILD=${CZ_BUILD:-$root/build}
CONTAINERS_CONF=${CONTAINERS_CONF:-$root/deploy/images/containers.conf}
export CZ_BUILD CONTAINERS_CONF
W=$(mktemp -d /tmp/cz-t-images.XXXXXX)
tag=cztest-$$
scheds=$(for d in "$root"/scheds/*/; do echo "scx_$(basename "$d")"; done)
rm_images() {
	for s in $scheds; do
		podman rmi "controlzone/$s:$tag" > /dev/null 2>&1
	done
}
trap '"$CZ_BUILD/tools/czctl/czctl" zone down --force zt-img > /dev/null 2>&1; podman rmi "localhost/cztest-app:$tag" > /dev/null 2>&1; rm_images; rm -rf "$W"' EXIT

if ! command -v podman > /dev/null || [ "$(id -u)" -ne 0 ]; then
	bad "podman installed and running as root (podman: $(command -v podman || echo missing), uid $(id -u)); scripts/setup installs podman"
	summary
	exit
fi
version=$(meson introspect "$CZ_BUILD" --projectinfo | jq -r .version)
podman images -a -q --no-trunc | sort > "$W/images.before"

# ---- bad usage: exit 2, one line, nothing built ----
for args in "--bogus" "scx_nosuch" "--tag" "--tag .bad"; do
	# shellcheck disable=SC2086 # split on purpose
	"$root/scripts/build-images" $args > "$W/out" 2> "$W/err"
	rc=$?
	check "build-images $args: exit 2, one line on stderr, nothing on stdout (exit $rc: $(head -n1 "$W/err"))" \
		[ $rc -eq 2 -a "$(wc -l < "$W/err")" -eq 1 -a ! -s "$W/out" ]
done
podman images -a -q --no-trunc | sort > "$W/images.now"
check "bad usage built no image" cmp -s "$W/images.before" "$W/images.now"

# ---- build ----
echo "== scripts/build-images --tag $tag"
t0=$(date +%s)
"$root/scripts/build-images" --tag "$tag" > "$W/build.out" 2>&1
rc=$?
t1=$(date +%s)
sed 's/^/  /' "$W/build.out"
check "build-images --tag $tag: exit 0 in $((t1 - t0)) s ($(tail -n1 "$W/build.out"))" [ $rc -eq 0 ]

# ldd_list BIN: the files BIN loads (awk here, sed in build-images).
ldd_list() {
	ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}
# files_diff EXPECTED ACTUAL: "missing X" / "extra X", comma-separated.
files_diff() {
	diff "$1" "$2" | sed -n 's/^< /missing /p; s/^> /extra /p' | paste -sd, | cut -c1-300
}

czctl=$CZ_BUILD/tools/czctl/czctl
first=yes
for s in $scheds; do
	img=controlzone/$s:$tag
	if ! podman image exists "$img"; then
		bad "$img: not built"
		continue
	fi
	v=$(podman run --rm "$img" --version 2>&1 | head -n1)
	check "$img: --version prints '$s (controlzone) $version' (got '$v')" \
		[ "$v" = "$s (controlzone) $version" ]
	podman run --rm "$img" --help > "$W/help" 2>&1
	rc=$?
	"$CZ_BUILD/scheds/$s" --help > "$W/help.build" 2>&1
	same=no
	cmp -s "$W/help" "$W/help.build" && same=yes
	check "$img: --help exits 0 with the built binary's text (exit $rc, same: $same)" \
		[ $rc -eq 0 -a $same = yes ]
	v=$(podman run --rm --entrypoint /usr/sbin/czctl "$img" --version 2>&1 | head -n1)
	check "$img: czctl inside runs ('$v')" [ "$v" = "czctl (controlzone) $version" ]

	# The files: exactly the two binaries and what ldd lists for them.
	{
		echo "/usr/sbin/$s"
		echo /usr/sbin/czctl
		ldd_list "$CZ_BUILD/scheds/$s"
		ldd_list "$czctl"
	} | sort -u > "$W/expected"
	mnt=$(podman image mount "$img")
	(cd "$mnt" && find . ! -type d | sed 's/^\.//' | sort) > "$W/actual"
	d=$(files_diff "$W/expected" "$W/actual")
	check "$img: holds exactly the $(wc -l < "$W/expected") expected files (${d:-no difference})" \
		[ -s "$W/expected" -a -z "$d" ]
	differ=$(while read -r f; do
		case "$f" in
		/usr/sbin/czctl) src=$czctl ;;
		/usr/sbin/*) src=$CZ_BUILD/scheds/${f##*/} ;;
		*) src=$f ;;
		esac
		cmp -s "$mnt$f" "$src" || echo "$f"
	done < "$W/expected" | paste -sd,)
	check "$img: its files are the build's and the host's bytes (differ: ${differ:-none})" [ -z "$differ" ]
	if [ $first = yes ]; then
		# The comparison must be able to fail.
		grep -v '/ld-linux' "$W/expected" > "$W/expected.short"
		d=$(files_diff "$W/expected.short" "$W/actual")
		check "the file comparison catches a file not expected ($d)" \
			[ "$d" = "extra /lib64/ld-linux-x86-64.so.2" ]
		first=no
	fi
	podman image unmount "$img" > /dev/null

	label() { podman image inspect --format "{{index .Labels \"org.opencontainers.image.$1\"}}" "$img"; }
	check "$img: label version = $version ($(label version))" [ "$(label version)" = "$version" ]
	check "$img: label title = $s ($(label title))" [ "$(label title)" = "$s" ]
	check "$img: label source set ($(label source))" [ -n "$(label source)" ]
	check "$img: label description set ($(label description | cut -c1-60))" [ -n "$(label description)" ]
	ep=$(podman image inspect --format '{{json .Config.Entrypoint}} {{.Config.StopSignal}}' "$img")
	check "$img: entrypoint /usr/sbin/$s, stop signal SIGINT ($ep)" \
		[ "$ep" = "[\"/usr/sbin/$s\"] SIGINT" ]
done

# ---- a zone whose scheduler and service come from images ----
# An application image as a user would bring one: redis-server and
# exactly its libraries, FROM scratch (nothing is pulled). redis-tools'
# redis-check-rdb is redis-server (it acts by the name it is run as).
app=localhost/cztest-app:$tag
rdb=$(command -v redis-check-rdb)
mkdir -p "$W/app/usr/bin"
cp -L "$rdb" "$W/app/usr/bin/redis-server"
for f in $(ldd_list "$rdb"); do
	mkdir -p "$W/app$(dirname "$f")"
	cp -L "$f" "$W/app$f"
done
printf 'FROM scratch\nCOPY . /\nENTRYPOINT ["/usr/bin/redis-server"]\n' > "$W/Containerfile"
podman build -q --layers=false -f "$W/Containerfile" -t "$app" "$W/app" > "$W/out" 2>&1
check "an application image of redis-server, FROM scratch ($app): builds ($(tail -n1 "$W/out" | cut -c1-20))" \
	podman image exists "$app"

export CZ_ROOT=$root CZ_SCHED_PATH=$CZ_BUILD/scheds
K1=$(grep -vE '^\s*(#|$)' "$root/vmconfigs/kernels" | sed -n 1p | cut -d. -f1-2)
PI=16390
zone_file() {	# zone_file SCHEDULER_MAPPING SERVICE_IMAGE: zt-img's file
	cat <<EOF2
name: zt-img
kernel: $K1
memory: 512M
scheduler: $1
services:
  - name: redis
    image: $2
    command: [redis-server, --port, "6379", --protected-mode, "no", --save, "", --appendonly, "no"]
    ports: ["$PI:6379"]
EOF2
}
mounted() { podman image mount | wc -l; }
m0=$(mounted)
for c in "{image: controlzone/scx_nosuch:$tag}|scheduler.image: no image 'controlzone/scx_nosuch:$tag' on this host" \
	 "{name: central, image: controlzone/scx_netaware:$tag}|scheduler.image: image 'controlzone/scx_netaware:$tag' has no scx_central in /usr/sbin" \
	 "{image: controlzone/scx_netaware:$tag}|services\[0\].image: image 'controlzone/scx_central:$tag' has no redis-server"; do
	svc=$app
	case "$c" in *services*) svc=controlzone/scx_central:$tag ;; esac
	zone_file "${c%%|*}" "$svc" > "$W/bad.yaml"
	"$czctl" zone check "$W/bad.yaml" > "$W/out" 2>&1
	rc=$?
	check "zone check, ${c#*|}: exit 2, one line ($(head -n1 "$W/out" | cut -c1-100))" \
		[ $rc -eq 2 -a "$(wc -l < "$W/out")" -eq 1 ] && grep -q "bad.yaml:[0-9]*: ${c#*|}" "$W/out"
done
check "the checks left no image mounted ($(mounted) mounted, $m0 before)" [ "$(mounted)" -eq "$m0" ]

zone_file "{image: controlzone/scx_netaware:$tag, args: [--boost-us, \"300\"]}" "$app" > "$W/zt-img.yaml"
t0=$(date +%s)
"$czctl" zone up "$W/zt-img.yaml" > "$W/up" 2>&1
rc=$?
check "zone up of zt-img (scheduler and service from images): exit 0 in $(($(date +%s) - t0)) s ($(head -n1 "$W/up"))" [ $rc -eq 0 ]
check "  and no image left mounted on the host ($(mounted))" [ "$(mounted)" -eq "$m0" ]
# exes: every process's executable in the zone, "PID EXE" (the guest's
# busybox readlink; a chrooted one shows its path from the zone's root)
exes() {
	"$czctl" zone exec zt-img -- sh -c 'for p in /proc/[0-9]*; do e=$(readlink $p/exe) && echo "${p#/proc/} $e"; done' 2> /dev/null
}
ops() { "$czctl" zone exec zt-img -- cat /sys/kernel/sched_ext/root/ops 2> /dev/null; }
exes > "$W/exes"
check "  sched_ext runs netaware ($(ops))" [ "$(ops)" = netaware ]
check "  the loader is the image's: $(grep -m1 scx_netaware "$W/exes")" \
	grep -q " /cz/images/0/usr/sbin/scx_netaware\$" "$W/exes"
check "  with the zone file's arguments" sh -c "\"$czctl\" zone exec zt-img -- cat /run/controlzone/current | grep -q '\"args\":\\[\"--boost-us\",\"300\"\\]'"
check "  redis-server is the application image's: $(grep -m1 redis-server "$W/exes")" \
	grep -q " /cz/images/1/usr/bin/redis-server\$" "$W/exes"
r=$(printf 'PING\r\n' | timeout 10 socat -t 5 - TCP:127.0.0.1:$PI | tr -d '\r')
check "  redis answers PING through the forwarded port ($r)" [ "$r" = "+PONG" ]
"$czctl" zone stats zt-img --json > "$W/stats" 2>&1
check "  zone stats answers from the image's scheduler's socket ($(head -c 60 "$W/stats"))" \
	grep -q '"sched":"netaware"' "$W/stats"
# A switch away and back: the zone's scx_netaware is still the image's.
"$czctl" zone switch zt-img scx_central > "$W/out" 2>&1 &&
	"$czctl" zone switch zt-img scx_netaware >> "$W/out" 2>&1
rc=$?
exes > "$W/exes"
check "  switch to scx_central and back: exit $rc, netaware from /cz/images/0 again ($(ops), $(grep -m1 scx_netaware "$W/exes" | cut -d' ' -f2))" \
	[ $rc -eq 0 -a "$(ops)" = netaware ] && grep -q " /cz/images/0/usr/sbin/scx_netaware\$" "$W/exes"
"$czctl" zone down zt-img > "$W/out" 2>&1
check "zone down zt-img: exit $?" [ ! -e /run/controlzone/zones/zt-img ]
podman rmi "$app" > /dev/null 2>&1

# A rebuild moves the tag and leaves no untagged image behind.
s=$(echo "$scheds" | head -n1)
"$root/scripts/build-images" --tag "$tag" "$s" > "$W/out" 2>&1
rc=$?
n=$(podman images -a -q --no-trunc | sort | comm -13 "$W/images.before" - | wc -l)
check "a rebuild of $s: exit $rc, still one image per scheduler ($n new images, $(echo "$scheds" | wc -l) schedulers)" \
	[ $rc -eq 0 -a "$n" -eq "$(echo "$scheds" | wc -l)" ]

rm_images
podman images -a -q --no-trunc | sort > "$W/images.now"
check "podman's images are as before the test" cmp -s "$W/images.before" "$W/images.now"
summary
