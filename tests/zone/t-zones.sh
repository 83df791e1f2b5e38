#!/bin/sh
# Control Zones test, run on the host (zones are VMs on the host): two
# zones at once, one per kernel in vmconfigs/kernels, each pinned to one
# host CPU.
#
# Zone A (redis, first kernel): redis-server under scx_netaware, its port
# forwarded to the host and probed with PING, a switching rule to
# scx_central while runnable tasks per vCPU stay >= 1.5 for 5 s. Zone B (batch, second kernel): stress-ng hogs
# under scx_central.
#
# Asserts: a bad zone file and a zone whose service cannot start leave
# nothing behind (exit 2 and 1); both zones come up, and a second `zone up`
# of A exits 1 while A runs; `zone list` shows both running with their
# scheduler, services and host CPUs; `zone status` shows each vCPU thread
# pinned to the zone's host CPU as /proc says; redis-benchmark from the
# host through A's forwarded port completes with no errors; `zone stats`
# answers for each zone with its scheduler's statistics, and so does a
# plain scx_stats client of A's host-side socket; `zone exec` passes exit
# statuses through (0 and 3) and output; `zone set` changes a tunable in B;
# a scheduler killed inside B is started again by the agent (an event);
# A's probe and samples have values; a load toggling every 2 s switches
# nothing; a steady load switches A to central 5-9 s after it starts, with
# the rule and values in the event, and back to netaware as long after it
# stops; `zone switch A --mode long` runs A's scheduler with the mode's
# arguments and holds automation (a steady load then switches nothing,
# until `zone auto A on`, which returns A to its default); `zone profile`
# over the switches writes a CSV row per second, the switches in JSON and
# a PNG of the size asked for and an SVG; cz-exporter
# serves both zones' metrics (OpenMetrics when asked, 0.0.4 otherwise),
# answers bad requests with 4xx and ten scrapers beside a client that never
# reads, and a real Prometheus scraping it returns the zones' series with
# their labels and increasing counters; zone D, on the second kernel,
# is switched by its rule from the fair class to netaware;
# `zone switch A scx_central` under load succeeds (A's sched_ext runs
# central, the requests sent during it all complete) while B's loader
# keeps its pid; a redis-server killed inside A
# is restarted by the agent (a new pid, restarts 1, an event); kill -9 of
# B's qemu leaves B reported dead with the reason, no process of B on the
# host, and `zone up B` works again; two `zone up` of one name at once
# (a zone of its own kernel image and config): one exits 0, the other 1,
# and the zone runs that kernel; a state directory whose supervisor is gone (a
# host reboot) shows as stale and `zone down` removes it; an agent that
# stops answering gives a timeout naming the zone, and `zone down --force`
# still removes everything; `zone down` removes a zone's state and
# processes; `zone down` of an unknown zone exits 1.
#
# Needs root, qemu, redis-benchmark, socat, jq, curl, prometheus and the build (scripts/setup
# installs them); takes a few minutes under TCG. Every wait has a deadline.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${CZ_BUILD:-$ROOT/build}
. "$ROOT/tests/vm/lib.sh"

CZCTL=$BUILD/tools/czctl/czctl
export CZ_ROOT=$ROOT CZ_BUILD=$BUILD CZ_SCHED_PATH=$BUILD/scheds
ZONES=/run/controlzone/zones
T=$(mktemp -d /tmp/cz-zones.XXXXXX)
K1=$(grep -vE '^\s*(#|$)' "$ROOT/vmconfigs/kernels" | sed -n 1p | cut -d. -f1-2)
K2=$(grep -vE '^\s*(#|$)' "$ROOT/vmconfigs/kernels" | sed -n 2p | cut -d. -f1-2)
[ -n "$K2" ] || K2=$K1
PA=16379	# A's forwarded redis port
FOR=5		# A's switching rule: runnable >= 1.5 per vCPU for FOR s

cleanup() {
	# A failure may be the guest's: its kernel's trouble, from the console.
	if [ "$CZ_FAIL" -gt 0 ]; then
		for f in "$ZONES"/zt-*/console.log; do
			[ -f "$f" ] || continue
			grep -E 'Oops|BUG:|[Kk]ernel panic' "$f" |
				sed "s|^|console of $(basename "$(dirname "$f")"): |"
		done
	fi
	for z in zt-a zt-b zt-c zt-d zt-bad zt-s; do
		"$CZCTL" zone down --force "$z" > /dev/null 2>&1
	done
	[ -n "${prompid:-}" ] && kill "$prompid" 2> /dev/null
	[ -n "${exppid:-}" ] && kill "$exppid" 2> /dev/null
	rm -rf "$T"
}
trap cleanup EXIT

cat > "$T/zt-a.yaml" <<EOF
name: zt-a
kernel: $K1
cpus: 1
memory: 512M
host_cpus: 0
scheduler:
  name: scx_netaware
  modes:
    long: [--boost-us, "5000"]
services:
  - name: redis
    command: [redis-server, --port, "6379", --protected-mode, "no", --save, "", --appendonly, "no"]
    ports: ["$PA:6379"]
    probe: {send: "PING\\r\\n", expect: "+PONG"}
auto:
  min_interval: 3s
  rules:
    - name: busy
      when: cpu.runnable >= 1.5
      for: ${FOR}s
      scheduler: central
EOF
cat > "$T/zt-b.yaml" <<EOF
name: zt-b
kernel: $K2
cpus: 1
memory: 512M
host_cpus: 1
scheduler:
  name: scx_central
services:
  - name: hogs
    command: [stress-ng, --cpu, "2", --quiet]
EOF
cat > "$T/zt-bad.yaml" <<EOF
name: zt-bad
kernel: $K1
memory: 512M
services:
  - name: broken
    command: [sh, -c, "exit 3"]
    restart: "no"
EOF
printf 'name: zt-x\nkernel: %s\nmemroy: 1G\n' "$K1" > "$T/typo.yaml"
printf 'name: zt-x\nkernel: %s\nauto:\n  rules:\n    - name: r\n      when: cpu.utl > 1\n      scheduler: fair\n' \
	"$K1" > "$T/badrule.yaml"
# zt-c boots a kernel of its own (the second pinned one's image and
# config, as a user's own build would be given).
KD=$("$ROOT/scripts/fetch-kernel" "$K2" 2> /dev/null)
printf 'name: zt-c\nkernel: {image: %s/vmlinuz, config: %s/config}\nmemory: 256M\n' \
	"$KD" "$KD" > "$T/zt-c.yaml"

# processes on the host that belong to zone NAME: its state directory in
# their command line (qemu), or its supervisor (czctl zone-supervise NAME)
zone_procs() {
	for c in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' < "$c"; } 2>/dev/null | grep -qE "$ZONES/$1/|zone-supervise $1( |\$)" &&
			echo "$c"
	done | wc -l
}

echo "== zones on the host (kernels $K1, $K2)"
if [ "$(getconf _NPROCESSORS_ONLN)" -lt 2 ]; then
	echo "SKIP: zones: this host has one CPU; the test pins two zones to two"
	exit 0
fi

"$CZCTL" zone up "$T/typo.yaml" > "$T/out" 2>&1
rc=$?
check "zone up of a bad file: exit 2 (got $rc)" [ $rc -eq 2 ]
check "  one line naming the key: $(head -n1 "$T/out")" grep -q "typo.yaml:3: memroy: unknown key" "$T/out"
check "  nothing left" [ ! -e "$ZONES/zt-x" ]
"$CZCTL" zone up "$T/badrule.yaml" > "$T/out" 2>&1
rc=$?
check "zone up with a bad switching rule: exit 2 (got $rc), nothing left" [ $rc -eq 2 ] && [ ! -e "$ZONES/zt-x" ]
check "  one line: $(head -n1 "$T/out" | cut -c1-90)" grep -q "badrule.yaml:6: auto.rules\[0\].when: unknown signal 'cpu.utl'" "$T/out"

"$CZCTL" zone up "$T/zt-bad.yaml" > "$T/out" 2>&1
rc=$?
check "zone up of a zone whose service dies: exit 1 (got $rc)" [ $rc -eq 1 ]
check "  says why: $(head -n1 "$T/out")" grep -q "service broken is not running" "$T/out"
check "  no state left" [ ! -e "$ZONES/zt-bad" ]
check "  no process left ($(zone_procs zt-bad))" [ "$(zone_procs zt-bad)" -eq 0 ]

t0=$(date +%s)
"$CZCTL" zone up "$T/zt-a.yaml" > "$T/up-a" 2>&1
rc=$?
check "zone up A: exit 0 (got $rc) in $(($(date +%s) - t0)) s" [ $rc -eq 0 ]
[ $rc -eq 0 ] || cat "$T/up-a"
"$CZCTL" zone up "$T/zt-a.yaml" > "$T/out" 2>&1
rc=$?
check "a second zone up A: exit 1 (got $rc), A untouched" [ $rc -eq 1 ]
check "  says it is up: $(head -n1 "$T/out")" grep -q "already up" "$T/out"
t0=$(date +%s)
"$CZCTL" zone up "$T/zt-b.yaml" > "$T/up-b" 2>&1
rc=$?
check "zone up B: exit 0 (got $rc) in $(($(date +%s) - t0)) s" [ $rc -eq 0 ]
[ $rc -eq 0 ] || cat "$T/up-b"

"$CZCTL" zone list > "$T/list" 2>&1
cat "$T/list"
check "zone list: A running netaware, redis, host CPU 0" \
	grep -qE '^zt-a +running +1 +0 +netaware +redis\(running\)' "$T/list"
check "zone list: B running central, hogs, host CPU 1" \
	grep -qE '^zt-b +running +1 +1 +central +hogs\(running\)' "$T/list"

"$CZCTL" zone status zt-a > "$T/st-a" 2>&1
check "zone status A: vCPU 0 on host CPU 0, as /proc says" grep -qE '^vcpu 0 .* on host CPUs 0$' "$T/st-a"
"$CZCTL" zone status zt-b > "$T/st-b" 2>&1
check "zone status B: vCPU 0 on host CPU 1, as /proc says" grep -qE '^vcpu 0 .* on host CPUs 1$' "$T/st-b"
check "zone status B: qemu's other threads on host CPU 1" grep -qE '^qemu main .* on host CPUs 1$' "$T/st-b"

redis-benchmark -h 127.0.0.1 -p $PA -n 2000 -c 2 -t get,set -q > "$T/rb" 2>&1
rc=$?
check "redis-benchmark through A's forwarded port: exit 0 (got $rc)" [ $rc -eq 0 ]
check "  GET and SET completed: $(tr '\r' '\n' < "$T/rb" | grep -c 'requests per second') results" \
	[ "$(tr '\r' '\n' < "$T/rb" | grep -c 'requests per second')" -ge 2 ]
check "  no errors" sh -c "! grep -qi 'error' '$T/rb'"

"$CZCTL" zone stats zt-a --json > "$T/sa" 2>&1
check "zone stats A: netaware's statistics ($(head -c 80 "$T/sa"))" grep -q '"sched":"netaware"' "$T/sa"
"$CZCTL" zone stats zt-b --json > "$T/sb" 2>&1
check "zone stats B: central's statistics" grep -q '"sched":"central"' "$T/sb"
"$CZCTL" stats --socket "$ZONES/zt-a/stats" --openmetrics > "$T/om" 2>&1
check "czctl stats on A's host-side socket: OpenMetrics" grep -q '^scx_netaware_' "$T/om"
printf '{"req":"stats","args":{"target":"top"}}\n' |
	timeout 10 socat -t 5 - "UNIX-CONNECT:$ZONES/zt-a/stats" > "$T/raw" 2>&1
check "a plain scx_stats client of A's socket: errno 0 and netaware" \
	grep -q '"errno":0.*"sched":"netaware"' "$T/raw"

out=$("$CZCTL" zone exec zt-a -- sh -c 'echo hello; exit 3')
rc=$?
check "zone exec: the exit status passes through (got $rc)" [ $rc -eq 3 ]
check "zone exec: the output ($out)" [ "$out" = hello ]
"$CZCTL" zone exec zt-b -- true
rc=$?
check "zone exec: status 0 (got $rc)" [ $rc -eq 0 ]

"$CZCTL" zone set zt-b slice_us=5000 > "$T/set" 2>&1
check "zone set B slice_us=5000: $(cat "$T/set")" grep -q 'slice_us: 20000 -> 5000' "$T/set"

# A scheduler that dies in a zone is started again by the agent.
spid=$("$CZCTL" zone exec zt-b -- pidof scx_central)
"$CZCTL" zone exec zt-b -- kill -9 "$spid"
i=0
while [ $i -lt 60 ]; do
	spid2=$("$CZCTL" zone exec zt-b -- pidof scx_central)
	ops=$("$CZCTL" zone exec zt-b -- cat /sys/kernel/sched_ext/root/ops 2>/dev/null)
	[ -n "$spid2" ] && [ "$spid2" != "$spid" ] && [ "$ops" = central ] && break
	sleep 1
	i=$((i + 1))
done
check "a killed scheduler is started again (pid $spid, now ${spid2:-none}, ops $ops)" \
	[ -n "$spid2" ] && [ "$spid2" != "$spid" ] && [ "$ops" = central ]
check "  an event says so" grep -q '"event":"scheduler".*"state":"restarted"\|"state":"restarted".*"event":"scheduler"' "$ZONES/zt-b/events.log"

# ---- A's switching rule and probe ----
# auto_json FILTER: jq's answer on `zone auto zt-a --json`
auto_json() { "$CZCTL" zone auto zt-a --json 2>/dev/null | jq -r "$1" 2>/dev/null; }
# n_events FILTER: events of A that FILTER selects
n_events() { jq -c "select($1)" "$ZONES/zt-a/events.log" 2>/dev/null | wc -l; }
# wait_event FILTER N SECONDS: until there are N such events; 0 or 1
wait_event() {
	_i=0
	while [ "$(n_events "$1")" -lt "$2" ]; do
		[ $_i -ge "$3" ] && return 1
		sleep 1
		_i=$((_i + 1))
	done
}
# hogs SECONDS: two CPU hogs in A's one vCPU, in the background
hogs() {
	"$CZCTL" zone exec zt-a -- sh -c "stress-ng --cpu 2 --timeout $1s --quiet > /dev/null 2>&1 &"
}
SW='.event == "auto" and .action == "switch"'

check "A's redis probe answers: $(auto_json '.probes.redis | "p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, \(.n) probes, \(.errors) failed"')" \
	[ "$(auto_json '.probes.redis.n > 0 and .probes.redis.errors == 0 and .probes.redis.p50_ms > 0')" = true ]
check "A's signals sampled: $(auto_json '.sample | "cpu.util \(."cpu.util"), cpu.runnable \(."cpu.runnable"), net.rx_pps \(."net.rx_pps")"')" \
	[ "$(auto_json '.sample."cpu.util" >= 0 and .sample."cpu.runnable" >= 0 and .sample."net.rx_pps" >= 0')" = true ]
check "  and the scheduler's stats in them" [ "$(auto_json '.sample.sched | length > 0')" = true ]
b_runnable=$("$CZCTL" zone auto zt-b --json | jq -r '.sample."cpu.runnable"')
check "B's signals sampled on its kernel ($K2): cpu.runnable $b_runnable with its two hogs on one vCPU" \
	awk -v r="${b_runnable:-0}" 'BEGIN { exit !(r >= 1.5) }'

# Load toggling faster than the rule's FOR s: 2 s on, 2 s off.
"$CZCTL" zone exec zt-a -- sh -c "for i in 1 2 3 4; do stress-ng --cpu 2 --timeout 2s --quiet; sleep 2; done > /dev/null 2>&1 &"
sleep 17
check "a load toggling every 2 s (rule: for ${FOR} s): no switch ($(n_events "$SW") decisions)" \
	[ "$(n_events "$SW")" -eq 0 ]

# A profile of what follows: load, a switch, back.
"$CZCTL" zone profile zt-a --duration 40 --out "$T/prof" --size 800x600 > "$T/prof.out" 2>&1 &
profpid=$!
sleep 2
hogs 40
t0=$(date +%s.%N)
wait_event "$SW" 1 60
dt=$(jq -r "select($SW) | .time" "$ZONES/zt-a/events.log" | head -n1 | awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }')
check "steady load: rule busy fires after ${dt:-never} s (its ${FOR} s plus two samples and 2 s for stress-ng to start)" \
	awk -v d="${dt:-999}" -v f=$FOR 'BEGIN { exit !(d >= f - 1 && d <= f + 4) }'
check "  the event gives the rule and the values: $(jq -r "select($SW) | .why" "$ZONES/zt-a/events.log" | head -n1)" \
	[ "$(n_events "$SW"' and .rule == "busy" and .values."cpu.runnable" >= 1.5 and .to.scheduler == "scx_central"')" -eq 1 ]
wait_event '.event == "switch" and .by == "auto"' 1 90
check "  the switch is done: $(jq -r 'select(.event == "switch") | "ok \(.ok) in \(.took_s) s"' "$ZONES/zt-a/events.log" | head -n1)" \
	[ "$(n_events '.event == "switch" and .ok == true')" -eq 1 ]
ops=$("$CZCTL" zone exec zt-a -- cat /sys/kernel/sched_ext/root/ops)
check "  A runs central ($ops)" [ "$ops" = central ]
"$CZCTL" zone events zt-a > "$T/ev" 2>&1
check "  zone events says so: $(grep 'auto .*rule busy' "$T/ev" | head -n1 | cut -c1-120)" \
	grep -q 'rule busy: cpu.runnable=[0-9.]* >= 1.5 for 5s: scx_netaware -> scx_central (switch)' "$T/ev"

"$CZCTL" zone exec zt-a -- sh -c 'kill $(pidof stress-ng)'
t0=$(date +%s.%N)
wait_event "$SW" 2 60
dt=$(jq -r "select($SW) | .time" "$ZONES/zt-a/events.log" | sed -n 2p | awk -v t0="$t0" '{ printf "%.1f", $1 - t0 }')
check "load gone: back to the default after ${dt:-never} s (hold ${FOR} s)" \
	awk -v d="${dt:-999}" -v f=$FOR 'BEGIN { exit !(d >= f - 1 && d <= f + 4) }'
wait_event '.event == "switch" and .by == "auto"' 2 90
ops=$("$CZCTL" zone exec zt-a -- cat /sys/kernel/sched_ext/root/ops)
check "  A runs netaware again ($ops), the rule said why: $(jq -r "select($SW) | .why" "$ZONES/zt-a/events.log" | sed -n 2p)" \
	[ "$ops" = netaware ] && [ "$(n_events "$SW"' and .rule == "default"')" -eq 1 ]
wait $profpid
rc=$?
check "zone profile A for 40 s: exit 0 (got $rc): $(tail -n1 "$T/prof.out")" [ $rc -eq 0 ]
check "  profile.csv: a header and one row per second ($(($(wc -l < "$T/prof/profile.csv") - 1)) rows)" \
	[ "$(($(wc -l < "$T/prof/profile.csv") - 1))" -eq 40 ]
# (a sample may fall between one scheduler's exit and the next's attach:
# fair, for a moment)
check "  it saw netaware, then central, then netaware again ($(tail -n +2 "$T/prof/profile.csv" | cut -d, -f2 | uniq | tr '\n' ' '))" \
	[ "$(tail -n +2 "$T/prof/profile.csv" | cut -d, -f2 | grep -v '^fair$' | uniq | tr '\n' ' ')" = "netaware central netaware " ]
check "  profile.json: the two switches, with the rule's values" \
	[ "$(jq '[.switches[] | select(.event == "auto" and .values."cpu.runnable" != null)] | length' "$T/prof/profile.json")" -eq 2 ]
png=$(od -An -tx1 -N24 "$T/prof/timeline.png" | tr -d ' \n')
check "  timeline.png: a PNG of 800x600 ($(echo "$png" | cut -c1-16)..., $((0x$(echo "$png" | cut -c33-40))) x $((0x$(echo "$png" | cut -c41-48))))" \
	[ "$(echo "$png" | cut -c1-16)" = 89504e470d0a1a0a ] &&
	[ "$(echo "$png" | cut -c33-48)" = 0000032000000258 ]
check "  timeline.svg: an SVG" grep -q '<svg' "$T/prof/timeline.svg"

"$CZCTL" zone switch zt-a --mode long > "$T/sw" 2>&1
rc=$?
check "zone switch A --mode long: exit 0 (got $rc)" [ $rc -eq 0 ]
check "  a manual switch holds A's automation ($(auto_json '"on \(.on), held \(.held)"'))" \
	[ "$(auto_json '.held')" = true ] && [ "$(n_events '.event == "auto" and .state == "held"')" -eq 1 ]
"$CZCTL" zone exec zt-a -- czctl status > "$T/zs" 2>&1
check "  A runs netaware with the mode's args" grep -q '^args *--boost-us 5000' "$T/zs"

pid_b=$("$CZCTL" zone exec zt-b -- pidof scx_central)
# Load on A through the switch: requests keep coming from the host.
redis-benchmark -h 127.0.0.1 -p $PA -n 20000 -c 2 -t get -q > "$T/rb2" 2>&1 &
rbpid=$!
sleep 2
t0=$(date +%s)
"$CZCTL" zone switch zt-a scx_central > "$T/sw" 2>&1
rc=$?
check "zone switch A scx_central under load: exit 0 (got $rc) in $(($(date +%s) - t0)) s" [ $rc -eq 0 ]
[ $rc -eq 0 ] || cat "$T/sw"
wait $rbpid
rc=$?
check "  the requests during the switch all completed (redis-benchmark exit $rc)" \
	[ $rc -eq 0 ] && ! grep -qi error "$T/rb2"
ops=$("$CZCTL" zone exec zt-a -- cat /sys/kernel/sched_ext/root/ops)
check "  A now runs central ($ops)" [ "$ops" = central ]
pid_b2=$("$CZCTL" zone exec zt-b -- pidof scx_central)
check "  B's scheduler untouched (pid $pid_b, now $pid_b2)" [ -n "$pid_b" ] && [ "$pid_b" = "$pid_b2" ]

hogs 12
sleep $((FOR + 5))
check "held: a steady load switches nothing ($(n_events "$SW") decisions, as before)" \
	[ "$(n_events "$SW")" -eq 2 ]
"$CZCTL" zone exec zt-a -- sh -c 'kill $(pidof stress-ng)'
"$CZCTL" zone auto zt-a on > "$T/on" 2>&1
rc=$?
check "zone auto A on: exit 0 (got $rc): $(head -n1 "$T/on")" [ $rc -eq 0 ] && grep -q 'automation on' "$T/on"
wait_event '.event == "switch" and .by == "auto"' 3 90
ops=$("$CZCTL" zone exec zt-a -- cat /sys/kernel/sched_ext/root/ops)
check "  A goes back to its default, netaware, no rule holding ($ops)" \
	[ "$ops" = netaware ] && [ "$(n_events "$SW"' and .rule == "default"')" -eq 2 ]

# ---- cz-exporter, scraped by a real Prometheus ----
EXP=127.0.0.1:19464
PROMADDR=127.0.0.1:19090
"$BUILD/tools/cz-exporter" --listen $EXP > "$T/exp.log" 2>&1 &
exppid=$!
i=0
while [ $i -lt 20 ] && ! curl -s -o /dev/null "http://$EXP/"; do sleep 0.5; i=$((i + 1)); done
curl -s -H 'Accept: application/openmetrics-text; version=1.0.0' -o "$T/om" -D "$T/omh" "http://$EXP/metrics"
check "cz-exporter: OpenMetrics when asked ($(grep -i '^content-type' "$T/omh" | tr -d '\r'))" \
	grep -qi '^content-type: application/openmetrics-text' "$T/omh" && [ "$(tail -n1 "$T/om")" = "# EOF" ]
check "  both zones up, with their schedulers' statistics" \
	grep -q '^cz_zone_up{zone="zt-a"} 1$' "$T/om" && grep -q '^cz_zone_up{zone="zt-b"} 1$' "$T/om" &&
	grep -q '^scx_netaware_[a-z_]*{zone="zt-a"} ' "$T/om" && grep -q '^scx_central_[a-z_]*{zone="zt-b"} ' "$T/om"
check "  A's probe, switches and vCPU run delay: $(grep -c '^cz_zone_.*zone="zt-a"' "$T/om") zt-a samples" \
	grep -q '^cz_zone_probe_latency_seconds{zone="zt-a",service="redis",quantile="0.99"} ' "$T/om" &&
	grep -q '^cz_zone_switches_total{zone="zt-a",by="auto"} 3$' "$T/om" &&
	grep -q '^cz_zone_vcpu_run_delay_seconds_total{zone="zt-a",vcpu="0"} ' "$T/om"
curl -s -o "$T/prom" -D "$T/promh" "http://$EXP/metrics"
check "  the 0.0.4 text format otherwise" \
	grep -qi '^content-type: text/plain; version=0.0.4' "$T/promh" && grep -q '^# TYPE cz_zone_probes_total counter' "$T/prom"
codes="$(curl -s -o /dev/null -w '%{http_code}' "http://$EXP/nope") \
$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$EXP/metrics") \
$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "http://$EXP/") \
$(printf 'GET /metrics HTTP/1.1\r\n\r\n' | timeout 5 socat - TCP:$EXP | head -n1 | cut -d' ' -f2)"
check "  bad requests get 4xx: unknown path, POST, DELETE, no Host ($codes)" [ "$codes" = "404 405 405 400" ]
# A client that sends a request and never reads; then ten at once.
(printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 30) | socat -u - TCP:$EXP &
stuck=$!
sleep 1
t0=$(date +%s.%N)
pids=
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -s -m 20 -o "$T/par.$i" -w '%{http_code}\n' "http://$EXP/metrics" > "$T/code.$i" &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done
dt=$(awk -v t0="$t0" -v t="$(date +%s.%N)" 'BEGIN { printf "%.1f", t - t0 }')
n200=$(cat "$T"/code.* | grep -c '^200$')
check "  ten scrapers at once beside a client that never reads: $n200 of 10 served in $dt s" \
	[ "$n200" -eq 10 ]
kill $stuck 2> /dev/null

mkdir -p "$T/prom-data"
printf 'global: {scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 2s}\nscrape_configs:\n  - job_name: controlzone\n    static_configs: [{targets: ["%s"]}]\n' \
	"$EXP" > "$T/prom.yml"
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom-data" \
	--web.listen-address=$PROMADDR > "$T/prom.log" 2>&1 &
prompid=$!
# promq QUERY: the instant query's result (JSON)
promq() { curl -s "http://$PROMADDR/api/v1/query" --data-urlencode "query=$1" | jq -c '.data.result'; }
i=0
while [ $i -lt 60 ] && [ "$(promq 'count(cz_zone_up)' | jq length 2>/dev/null)" != 1 ]; do
	sleep 1
	i=$((i + 1))
done
sleep 6
check "Prometheus scrapes cz-exporter: target up ($(promq 'up{job="controlzone"}' | jq -r '.[0].value[1]'))" \
	[ "$(promq 'up{job="controlzone"}' | jq -r '.[0].value[1]')" = 1 ]
check "  zone series with their labels: $(promq 'cz_zone_up' | jq -r '[.[].metric.zone] | sort | join(",")')" \
	[ "$(promq 'cz_zone_up{job="controlzone"} == 1' | jq -r '[.[].metric.zone] | sort | join(",")')" = "zt-a,zt-b" ]
check "  A's probe counter increases: $(promq 'increase(cz_zone_probes_total{zone="zt-a",service="redis"}[10s])' | jq -r '.[0].value[1]')" \
	[ "$(promq 'increase(cz_zone_probes_total{zone="zt-a",service="redis",job="controlzone"}[10s]) > 0' | jq length)" -eq 1 ]
check "  B's vCPU runs ($(promq 'rate(cz_zone_vcpu_run_seconds_total{zone="zt-b"}[10s])' | jq -r '.[0].value[1]') CPU s/s) and its scheduler's series are there" \
	[ "$(promq 'rate(cz_zone_vcpu_run_seconds_total{zone="zt-b",vcpu="0"}[10s]) > 0' | jq length)" -eq 1 ] &&
	[ "$(promq 'count({__name__=~"scx_central_.*",zone="zt-b"})' | jq -r '.[0].value[1]')" -gt 0 ]
kill $prompid $exppid 2> /dev/null
wait $prompid $exppid 2> /dev/null

rpid=$("$CZCTL" zone exec zt-a -- pidof redis-server)
"$CZCTL" zone exec zt-a -- kill -9 "$rpid"
i=0
while [ $i -lt 60 ]; do
	rpid2=$("$CZCTL" zone exec zt-a -- pidof redis-server)
	[ -n "$rpid2" ] && [ "$rpid2" != "$rpid" ] && break
	sleep 1
	i=$((i + 1))
done
check "a killed redis-server is restarted (pid $rpid, now ${rpid2:-none})" \
	[ -n "$rpid2" ] && [ "$rpid2" != "$rpid" ]
"$CZCTL" zone status zt-a > "$T/st-a" 2>&1
check "  zone status: restarts 1" grep -q 'service    redis: running (pid [0-9]*, restarts 1' "$T/st-a"
check "  an event says so" grep -q '"state":"restarted"' "$ZONES/zt-a/events.log"

qb=$(grep -o '"qemu":[0-9]*' "$ZONES/zt-b/state.json" | cut -d: -f2)
kill -9 "$qb"
i=0
while [ $i -lt 30 ] && ! "$CZCTL" zone status zt-b 2>/dev/null | grep -q '^state *dead'; do
	sleep 1
	i=$((i + 1))
done
"$CZCTL" zone status zt-b > "$T/st-b" 2>&1
check "kill -9 of B's qemu: B reported dead with the reason" \
	grep -q '^state      dead: qemu was killed by signal 9' "$T/st-b"
check "  no process of B left ($(zone_procs zt-b))" [ "$(zone_procs zt-b)" -eq 0 ]
"$CZCTL" zone list > "$T/list" 2>&1
check "  zone list: B dead" grep -qE '^zt-b +dead' "$T/list"
"$CZCTL" zone up "$T/zt-b.yaml" > "$T/up-b" 2>&1
rc=$?
check "  zone up B again: exit 0 (got $rc)" [ $rc -eq 0 ]

# Two `zone up` of one name at once: one wins.
"$CZCTL" zone up "$T/zt-c.yaml" > "$T/c1" 2>&1 &
c1=$!
"$CZCTL" zone up "$T/zt-c.yaml" > "$T/c2" 2>&1 &
c2=$!
wait $c1
r1=$?
wait $c2
r2=$?
check "two zone up of one name at once: one exits 0, the other 1 ($r1, $r2)" \
	[ $((r1 + r2)) -eq 1 ] && [ $((r1 * r2)) -eq 0 ]
check "  the loser says why: $(cat "$T/c1" "$T/c2" | grep czctl: | head -n1)" \
	sh -c "cat '$T/c1' '$T/c2' | grep -qE 'already up|being started by another'"
rel=$("$CZCTL" zone exec zt-c -- uname -r)
check "  zt-c runs its own kernel image ($rel)" [ "$rel" = "$(cat "$KD/release")" ]
"$CZCTL" zone down zt-c > /dev/null 2>&1

# What a host reboot leaves: a state directory whose supervisor is gone.
mkdir -p "$ZONES/zt-s"
echo '{"name":"zt-s","state":"running","supervisor":999999,"qemu":999998}' > "$ZONES/zt-s/state.json"
"$CZCTL" zone list > "$T/list" 2>&1
check "a stale zone directory shows as stale" grep -qE '^zt-s +stale' "$T/list"
"$CZCTL" zone down zt-s > /dev/null 2>&1
rc=$?
check "  zone down removes it (exit $rc)" [ $rc -eq 0 ] && [ ! -e "$ZONES/zt-s" ]

# An agent that does not answer: a timeout naming the zone, not a hang.
apid=$("$CZCTL" zone exec zt-a -- pidof cz-agent)
"$CZCTL" zone exec zt-a -- sh -c "(sleep 1; kill -STOP $apid) > /dev/null 2>&1 &"
sleep 3
t0=$(date +%s)
"$CZCTL" zone status zt-a > "$T/st-a" 2>&1
check "a stopped agent: zone status says so in $(($(date +%s) - t0)) s: $(grep '^agent' "$T/st-a")" \
	grep -q '^agent *zone zt-a: no answer within' "$T/st-a"
"$CZCTL" zone down --force zt-a > /dev/null 2>&1
rc=$?
check "  zone down --force: exit 0 (got $rc), nothing left ($(zone_procs zt-a))" \
	[ $rc -eq 0 ] && [ ! -e "$ZONES/zt-a" ] && [ "$(zone_procs zt-a)" -eq 0 ]

for z in zt-b; do
	"$CZCTL" zone down "$z" > "$T/down" 2>&1
	rc=$?
	check "zone down $z: exit 0 (got $rc)" [ $rc -eq 0 ]
	check "  its state is gone" [ ! -e "$ZONES/$z" ]
	check "  no process left ($(zone_procs "$z"))" [ "$(zone_procs "$z")" -eq 0 ]
done
# A switching rule on the second kernel: a zone whose hogs start with it
# switches from the fair class to netaware.
printf 'name: zt-d\nkernel: %s\ncpus: 1\nmemory: 512M\nhost_cpus: 1\nservices:\n  - name: hogs\n    command: [stress-ng, --cpu, "2", --quiet]\nauto:\n  rules:\n    - name: busy\n      when: cpu.runnable >= 1.5\n      for: 3s\n      scheduler: netaware\n' \
	"$K2" > "$T/zt-d.yaml"
"$CZCTL" zone up "$T/zt-d.yaml" > "$T/up-d" 2>&1
rc=$?
check "zone up D ($K2, fair, hogs, a rule to netaware): exit 0 (got $rc)" [ $rc -eq 0 ]
i=0
while [ $i -lt 90 ] && [ "$(jq -c 'select(.event == "switch" and .by == "auto")' "$ZONES/zt-d/events.log" 2>/dev/null | wc -l)" -lt 1 ]; do
	sleep 1
	i=$((i + 1))
done
ops=$("$CZCTL" zone exec zt-d -- cat /sys/kernel/sched_ext/root/ops 2>/dev/null)
check "  on $K2 the rule switched D to netaware ($ops): $(jq -r 'select(.event == "auto" and .action == "switch") | .why' "$ZONES/zt-d/events.log" 2>/dev/null | head -n1)" \
	[ "$ops" = netaware ] &&
	[ "$(jq -c 'select(.event == "switch" and .by == "auto" and .ok == true and .to.scheduler == "scx_netaware")' "$ZONES/zt-d/events.log" | wc -l)" -eq 1 ]
"$CZCTL" zone down zt-d > /dev/null 2>&1

"$CZCTL" zone down zt-nothere > /dev/null 2>&1
rc=$?
check "zone down of an unknown zone: exit 1 (got $rc)" [ $rc -eq 1 ]

summary
