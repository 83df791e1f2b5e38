/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading sched_ext's sysfs files (state, root/ops, hotplug_seq): one line
 * each. Shared by the loaders (libcz) and czctl, which links no libbpf.
 */
#include <stdio.h>
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
