#!/bin/sh
# The Kubernetes manifests in deploy/kubernetes/, on the host, offline (no
# cluster, no VM). Each is checked by tests/zone/kube-check.py (Debian's
# kubectl cannot validate without an API server), then its pod template
# runs under `podman kube play`. Runs as root; the scheduler's image is
# built under a test-only tag and removed again.
#
# Asserts, for every deploy/kubernetes/*.yaml: kube-check.py passes it
# (API fields and types; the node label selecting a known scheduler, its
# image at the project's version, hostPID, not privileged, every
# capability dropped but BPF and PERFMON (the set tests/vm/t-caps.sh
# measured), the sched_ext and /var/run/scx host mounts, a bounded
# grace period, its ConfigMap keys and options); kube-check.py fails,
# naming the problem, on copies broken on purpose (a misspelt field, a
# missing capability, one too many, no drop of ALL, privileged, a
# ConfigMap key that is not there, an
# option the scheduler does not have, the sched_ext mount removed, a
# string where a boolean belongs, another version's image) and exits 2 on a file that is not YAML;
# the pod template played with its args replaced by --version prints
# "scx_NAME (controlzone) VERSION" (podman logs) and exits 0, with
# exactly the manifest's capabilities (those this host can grant) and no
# other, the mounts, a read-only root and the
# SIGINT stop signal; played with its own args (ConfigMap values filled
# in), the scheduler accepts them and stops only because this kernel has
# no sched_ext (exit 1, not 2: skipped on a host that has sched_ext,
# where it would attach); `podman kube down` removes the pods; podman's
# pods and images are as before the test.
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/vm/lib.sh
. "$root/tests/vm/lib.sh"
CZ_BUILD=${CZ_BUILD:-$root/build}
CONTAINERS_CONF=${CONTAINERS_CONF:-$root/deploy/images/containers.conf}
export CZ_BUILD CONTAINERS_CONF
W=$(mktemp -d /tmp/cz-t-kube.XXXXXX)
tag=cztest-kube-$$
check_py=$root/tests/zone/kube-check.py
built=
trap 'for i in $built; do podman rmi "$i" > /dev/null 2>&1; done; rm -rf "$W"' EXIT

if ! command -v podman > /dev/null || [ "$(id -u)" -ne 0 ] ||
	! /usr/bin/python3 -c 'import yaml' 2> /dev/null; then
	bad "podman, python3-yaml and root (podman: $(command -v podman || echo missing), uid $(id -u)); scripts/setup installs them"
	summary
	exit
fi
version=$(meson introspect "$CZ_BUILD" --projectinfo | jq -r .version)
scheds=$(for d in "$root"/scheds/*/; do echo "scx_$(basename "$d")"; done | paste -sd,)
podman images -a -q --no-trunc | sort > "$W/images.before"
podman pod ps -q --no-trunc | sort > "$W/pods.before"

# broken FILE SED WHAT: kube-check.py fails on FILE edited by SED and
# names WHAT.
broken() {
	sed "$2" "$1" > "$W/broken.yaml"
	if cmp -s "$1" "$W/broken.yaml"; then
		bad "broken copy ($2): the edit changed nothing"
		return
	fi
	/usr/bin/python3 "$check_py" check "$W/broken.yaml" --version "$version" \
		--schedulers "$scheds" --help-file "$W/help" > "$W/check.out" 2>&1
	rc=$?
	named=no
	grep -qF -- "$3" "$W/check.out" && named=yes
	check "kube-check.py fails on it with $2: exit 1 naming '$3' (exit $rc: $(grep -F -- "$3" "$W/check.out" | head -n1 | sed 's/^[^:]*: //'))" \
		[ $rc -eq 1 -a $named = yes ]
}

for m in "$root"/deploy/kubernetes/*.yaml; do
	mb=$(basename "$m")
	sched=$(sed -nE 's/^ *controlzone\.io\/scheduler: *"?(scx_[a-z0-9_]+)"?.*/\1/p' "$m" | head -n1)
	echo "== $mb ($sched)"
	if [ -z "$sched" ]; then
		bad "$mb: no controlzone.io/scheduler node selector"
		continue
	fi
	img=controlzone/$sched:$tag
	"$root/scripts/build-images" --tag "$tag" "$sched" > "$W/build.out" 2>&1
	rc=$?
	built="$built $img"
	check "build-images --tag $tag $sched: exit 0 ($(tail -n1 "$W/build.out"))" [ $rc -eq 0 ]
	podman run --rm "$img" --help > "$W/help" 2>&1

	/usr/bin/python3 "$check_py" check "$m" --version "$version" \
		--schedulers "$scheds" --help-file "$W/help" > "$W/check.out" 2>&1
	rc=$?
	check "kube-check.py passes $mb (exit $rc: $(head -n1 "$W/check.out"))" [ $rc -eq 0 ]

	# The check must be able to fail.
	broken "$m" 's/hostPID: true/hostPid: true/' 'hostPid: unknown field'
	broken "$m" '/^ *- BPF$/d' 'capabilities.add: must be exactly'
	broken "$m" '/^ *- PERFMON$/a\                - SYS_ADMIN' 'capabilities.add: must be exactly'
	broken "$m" '/^ *- ALL$/d' 'capabilities.drop: must include ALL'
	broken "$m" 's/privileged: false/privileged: true/' 'privileged: must not be true'
	broken "$m" '0,/key: /s/key: .*/key: NO_SUCH_KEY/' "has no key 'NO_SUCH_KEY'"
	broken "$m" '0,/- --[a-z]/s/- --\([a-z]\)/- --no-such-\1/' 'is not an option of'
	broken "$m" 's#path: /sys/kernel/sched_ext#path: /sys/kernel/other#' '/sys/kernel/sched_ext is not mounted'
	broken "$m" 's/hostPID: true/hostPID: "true"/' 'hostPID: not a boolean'
	broken "$m" "s#image: \(.*\):$version#image: \1:0.0.0-other#" 'image: must be'
	broken "$m" 's/stop, --container/stop/' 'preStop.exec.command: must be'
	printf 'a: [b\n' > "$W/notyaml.yaml"
	/usr/bin/python3 "$check_py" check "$W/notyaml.yaml" --version "$version" \
		--schedulers "$scheds" --help-file "$W/help" > "$W/check.out" 2>&1
	rc=$?
	check "kube-check.py: a file that is not YAML exits 2 ($(head -n1 "$W/check.out" | cut -c1-80))" [ $rc -eq 2 ]

	# ---- the pod template under podman kube play ----
	# play NAME [ARGS]: play the template as pod NAME (its args replaced
	# by ARGS, comma-separated, when given); wait for the container.
	play() {
		mkdir -p "$W/host-$1"
		/usr/bin/python3 "$check_py" pod "$m" --name "$1" --image "localhost/$img" \
			--host-root "$W/host-$1" ${2:+--args="$2"} > "$W/$1.yaml" 2> "$W/$1.notes"
		podman kube play "$W/$1.yaml" > "$W/$1.play" 2>&1 || return 1
		ctr=$(podman ps -a --filter "pod=$1" --format '{{.Names}}' | grep -v -- '-infra$' | head -n1)
		[ -n "$ctr" ] && exit_code=$(podman wait "$ctr")
	}
	ctr='' exit_code=''
	play czt-version --version
	rc=$?
	out=$(podman logs "$ctr" 2>&1 | head -n1)
	check "kube play of the pod template with --version: '$sched (controlzone) $version', exit 0 (play $rc, exit $exit_code, '$out')" \
		[ $rc -eq 0 -a "$out" = "$sched (controlzone) $version" -a "$exit_code" = 0 ]
	if [ -n "$ctr" ]; then
		caps=$(podman inspect "$ctr" --format '{{.EffectiveCaps}}')
		bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
		# Capability numbers: PERFMON 38, BPF 39.
		miss='' nohost='' want=''
		for c in BPF:39 PERFMON:38; do
			if [ $(((0x$bnd >> ${c#*:}) & 1)) -eq 0 ]; then
				nohost="$nohost CAP_${c%:*}"
			elif ! echo "$caps" | grep -qw "CAP_${c%:*}"; then
				miss="$miss CAP_${c%:*}"
			else
				want="$want CAP_${c%:*}"
			fi
		done
		# drop: ALL, so the runtime's defaults (CAP_CHOWN, ...) are gone.
		extra=$(echo "$caps" | tr -d '[]' | tr ' ' '\n' | grep . |
			grep -vxF "$(echo $want | tr ' ' '\n')" | paste -sd' ' -)
		check "the container has the manifest's capabilities that this host grants (missing:${miss:- none}; not in this host's bounding set:${nohost:- none})" \
			[ -z "$miss" ]
		check "the container has no other capability ($caps; others: ${extra:-none})" \
			[ -z "$extra" ]
		mounts=$(podman inspect "$ctr" --format '{{range .Mounts}}{{.Destination}} {{end}}')
		mnt_ok=yes
		for p in /sys/kernel/sched_ext /var/run/scx; do
			echo " $mounts" | grep -qE " (/host)?$p( |$)" || mnt_ok="no: $p"
		done
		check "the container mounts /sys/kernel/sched_ext and /var/run/scx ($mounts; $(paste -sd' ' "$W/czt-version.notes"))" \
			[ "$mnt_ok" = yes ]
		ro=$(podman inspect "$ctr" --format '{{.HostConfig.ReadonlyRootfs}} {{.Config.StopSignal}}')
		check "the container's root is read-only, its stop signal SIGINT ($ro)" \
			[ "$ro" = "true 2" -o "$ro" = "true SIGINT" ]
		pid=$(podman inspect "$ctr" --format '{{.HostConfig.PidMode}}')
		if [ "$pid" = host ]; then
			ok "the container shares the host's PID namespace"
		else
			echo "SKIP: hostPID under podman kube play: PID mode '$pid' (podman $(podman version --format '{{.Client.Version}}') does not apply hostPID; kube-check.py asserts it in the manifest)"
		fi
	fi
	podman kube down "$W/czt-version.yaml" > /dev/null 2>&1
	check "podman kube down removes the pod" sh -c "! podman pod exists czt-version"

	if [ -e /sys/kernel/sched_ext ]; then
		echo "SKIP: the pod's own args: this host has sched_ext, where they would attach $sched"
	else
		ctr='' exit_code=''
		play czt-args
		rc=$?
		out=$(podman logs "$ctr" 2>&1 | head -n1)
		why=other
		case "$out" in *'no sched_ext'*) why=no-sched_ext ;; esac
		check "kube play with the manifest's own args: accepted, exit 1 for want of sched_ext (play $rc, exit $exit_code: $out)" \
			[ $rc -eq 0 -a "$exit_code" = 1 -a $why = no-sched_ext ]
		podman kube down "$W/czt-args.yaml" > /dev/null 2>&1
		check "podman kube down removes that pod too" sh -c "! podman pod exists czt-args"
	fi
done

for i in $built; do podman rmi "$i" > /dev/null 2>&1; done
built=
podman pod ps -q --no-trunc | sort > "$W/pods.now"
check "podman's pods are as before the test" cmp -s "$W/pods.before" "$W/pods.now"
# `podman kube play` builds podman's pause image the first time: remove it
# when the test made it.
podman images -a -q --no-trunc | sort > "$W/images.now"
for i in $(comm -13 "$W/images.before" "$W/images.now"); do
	if podman image inspect --format '{{join .RepoTags " "}}' "$i" | grep -q 'podman-pause'; then
		podman rmi "$i" > /dev/null 2>&1
	fi
done
podman images -a -q --no-trunc | sort > "$W/images.now"
check "podman's images are as before the test" cmp -s "$W/images.before" "$W/images.now"
summary
