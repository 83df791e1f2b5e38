/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading sysfs files: sched_ext's (state, root/ops, hotplug_seq), one line
 * each, and CPU lists (topology). Shared by the loaders (libcz), the tools
 * and czctl, which links no libbpf.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cz_ctl.h"

int cz_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *nl;

	if (!f)
		return -1;
	if (!fgets(buf, len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

int cz_parse_cpulist(const char *s, int *cpus, int max)
{
	int n = 0;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (long c = a; c <= b; c++) {
			if (n >= max)
				return -1;
			cpus[n++] = c;
		}
		if (*end != ',' && *end != '\0')
			return -1;
		s = *end ? end + 1 : end;
	}
	return n;
}
