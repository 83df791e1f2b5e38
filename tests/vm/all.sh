#!/bin/sh
# Runs VM tests in this one boot: every t-*.sh, or the ones named
# (t-NAME.sh ...); exits non-zero if any fails. "TEST: NAME done" marks
# each finished test, so that scripts/test can run the rest again in a new
# boot when the emulator crashes the guest part-way.
rc=0
if [ $# -eq 0 ]; then
	set -- $(cd /cz/tests && echo t-*.sh)
fi
for name in "$@"; do
	sh "/cz/tests/$name" || rc=1
	# Whatever a test left attached must not leak into the next one.
	if [ "$(cat /sys/kernel/sched_ext/state)" != disabled ]; then
		echo "FAIL: $name left sched_ext $(cat /sys/kernel/sched_ext/state)"
		rc=1
	fi
	echo "TEST: $name done"
done
exit $rc
