#!/bin/sh
# Runs every VM test (t-*.sh) in this one boot; exits non-zero if any fails.
rc=0
for t in /cz/tests/t-*.sh; do
	sh "$t" || rc=1
	# Whatever a test left attached must not leak into the next one.
	if [ "$(cat /sys/kernel/sched_ext/state)" != disabled ]; then
		echo "FAIL: $(basename "$t") left sched_ext $(cat /sys/kernel/sched_ext/state)"
		rc=1
	fi
done
exit $rc
