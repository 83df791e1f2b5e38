/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-ctl-rtt: times stats requests against a stats socket, for
 * scripts/bench/control.sh. Not installed.
 *
 *   cz-ctl-rtt SOCKET COUNT GAP_MS [RAW]
 *
 * Sends COUNT {"req":"stats"} requests on one connection, GAP_MS apart
 * (as `czctl stats --follow` does), and prints one line:
 *   requests N failed F p50_us X p99_us Y max_us Z
 * With RAW, also writes every round trip to that file, one per line, in
 * microseconds, in the order they were made (for a benchmark's plot).
 * A round trip is from before the request is sent to after its reply is
 * decoded, with lib/cz_stats_client.c, the code czctl uses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "cz_stats_client.h"
#include "cz_util.h"

enum {
	TIMEOUT_S	= 10,
	COUNT_MAX	= 1000000,
};

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* @n round trips to @path, one per line (us); 0, or -1 with a message. */
static int write_raw(const char *path, const double *v, unsigned int n)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "cz-ctl-rtt: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (unsigned int i = 0; i < n; i++)
		fprintf(f, "%.0f\n", v[i]);
	if (fclose(f)) {
		fprintf(stderr, "cz-ctl-rtt: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Nearest-rank percentile of sorted @v. */
static double pct(const double *v, unsigned int n, double p)
{
	unsigned int rank = (unsigned int)(p / 100 * n + 0.999999);

	return v[rank ? rank - 1 : 0];
}

int main(int argc, char **argv)
{
	struct cz_stats_conn c;
	unsigned int count, ok = 0, failed = 0;
	double gap_ms, *rtt;
	char msg[256];
	int err;

	if ((argc != 4 && argc != 5) || (count = strtoul(argv[2], NULL, 0)) == 0 ||
	    count > COUNT_MAX || (gap_ms = strtod(argv[3], NULL)) < 0) {
		fprintf(stderr, "usage: cz-ctl-rtt SOCKET COUNT GAP_MS [RAW]\n");
		return 2;
	}
	rtt = calloc(count, sizeof(*rtt));
	err = rtt ? cz_stats_connect(&c, argv[1], TIMEOUT_S) : ENOMEM;
	if (err) {
		fprintf(stderr, "cz-ctl-rtt: %s: %s\n", argv[1], strerror(err));
		return 1;
	}
	for (unsigned int i = 0; i < count; i++) {
		struct timespec gap = { (time_t)(gap_ms / 1000),
					(long)((gap_ms - (time_t)(gap_ms / 1000) * 1000) * 1e6) };
		struct json_object *resp;
		double t0 = cz_now() * 1e6;
		int ret = cz_stats_call(&c, cz_stats_request("stats", "top"), &resp,
				      msg, sizeof(msg), NULL);

		if (ret < 0) {
			fprintf(stderr, "cz-ctl-rtt: %s\n", msg);
			return 1;
		}
		if (ret)
			failed++;
		else
			rtt[ok++] = cz_now() * 1e6 - t0;
		json_object_put(resp);
		nanosleep(&gap, NULL);
	}
	cz_stats_disconnect(&c);
	if (!ok) {
		fprintf(stderr, "cz-ctl-rtt: no request succeeded (last: %s)\n", msg);
		return 1;
	}
	if (argc == 5 && write_raw(argv[4], rtt, ok))
		return 1;
	qsort(rtt, ok, sizeof(*rtt), by_value);
	printf("requests %u failed %u p50_us %.0f p99_us %.0f max_us %.0f\n",
	       count, failed, pct(rtt, ok, 50), pct(rtt, ok, 99), rtt[ok - 1]);
	free(rtt);
	return 0;
}
