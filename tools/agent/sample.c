/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The zone's signals (sample.h), from /proc:
 * - cpu.util: busy share of all CPU time in /proc/stat's "cpu" line
 *   between two samples (idle and iowait are not busy), in %;
 * - cpu.runnable: /proc/loadavg's running count, less the agent reading
 *   it, per online CPU, averaged over the polls since the last sample (one
 *   reading is too noisy to hold a rule for seconds);
 * - cpu.pressure.some/full: /proc/pressure/cpu's avg10, in %;
 * - net.rx_pps: packets received by every interface but lo, per second.
 * A value the kernel does not give (no PSI) is left out of the sample,
 * which makes a rule's comparison on it false.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "cz_util.h"
#include "sample.h"

static struct {
	bool			based;
	double			t;
	unsigned long long	busy, total;
	unsigned long long	rx;
	double			runnable_sum;
	unsigned int		polls;
} P;

void sample_poll(void)
{
	char buf[256];
	unsigned int running, total;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!cz_read_text("/proc/loadavg", buf, sizeof(buf)) ||
	    sscanf(buf, "%*s %*s %*s %u/%u", &running, &total) != 2)
		return;
	P.runnable_sum += (double)(running ? running - 1 : 0) / (cpus > 0 ? cpus : 1);
	P.polls++;
}

static bool cpu_times(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = { 0 };
	char buf[512];

	if (!cz_read_text("/proc/stat", buf, sizeof(buf)) ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
		return false;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];
	return true;
}

static unsigned long long rx_packets(void)
{
	unsigned long long sum = 0, bytes, pkts;
	char buf[8192], *line, *save = NULL, name[64];

	if (!cz_read_text("/proc/net/dev", buf, sizeof(buf)))
		return 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, " %63[^:]: %llu %llu", name, &bytes, &pkts) == 3 &&
		    strcmp(name, "lo"))
			sum += pkts;
	return sum;
}

static void psi(struct json_object *o)
{
	char buf[512], *p;
	double v;

	if (!cz_read_text("/proc/pressure/cpu", buf, sizeof(buf)))
		return;
	if ((p = strstr(buf, "some avg10=")) && sscanf(p, "some avg10=%lf", &v) == 1)
		json_object_object_add(o, "cpu.pressure.some", json_object_new_double(v));
	if ((p = strstr(buf, "full avg10=")) && sscanf(p, "full avg10=%lf", &v) == 1)
		json_object_object_add(o, "cpu.pressure.full", json_object_new_double(v));
}

struct json_object *sample_take(void)
{
	unsigned long long busy, total, rx = rx_packets();
	bool have_cpu = cpu_times(&busy, &total);
	double now = cz_now(), dt = now - P.t;
	struct json_object *o = NULL;

	if (P.based) {
		o = json_object_new_object();
		if (have_cpu && total > P.total)
			json_object_object_add(o, "cpu.util", json_object_new_double(
				100.0 * (double)(busy - P.busy) / (double)(total - P.total)));
		if (P.polls)
			json_object_object_add(o, "cpu.runnable",
					       json_object_new_double(P.runnable_sum / P.polls));
		psi(o);
		if (dt > 0 && rx >= P.rx)
			json_object_object_add(o, "net.rx_pps",
					       json_object_new_double((double)(rx - P.rx) / dt));
	}
	P.based = true;
	P.t = now;
	P.rx = rx;
	if (have_cpu) {
		P.busy = busy;
		P.total = total;
	}
	P.runnable_sum = 0;
	P.polls = 0;
	return o;
}
