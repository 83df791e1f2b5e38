/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SMT topology from sysfs (lib/cz_topo.c) on fake sysfs trees: siblings
 * numbered 0/1 and 0/N, a machine without SMT, an offline CPU, and lists
 * that cannot be right.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cz_topo.h"

static char root[64];

/* A fake /sys with one thread_siblings_list per entry (NULL: offline). */
static void fake_sysfs(const char *const *lists, int nr)
{
	char path[256];

	snprintf(root, sizeof(root), "/tmp/cz-topo-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	for (int cpu = 0; cpu < nr; cpu++) {
		FILE *f;

		if (!lists[cpu])
			continue;
		snprintf(path, sizeof(path), "mkdir -p %s/devices/system/cpu/cpu%d/topology",
			 root, cpu);
		cr_assert_eq(system(path), 0);
		snprintf(path, sizeof(path),
			 "%s/devices/system/cpu/cpu%d/topology/thread_siblings_list",
			 root, cpu);
		f = fopen(path, "w");
		cr_assert_not_null(f);
		fprintf(f, "%s\n", lists[cpu]);
		fclose(f);
	}
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (root[0])
		cr_assert_eq(system(cmd), 0);
}

static int read_fake(int nr, int max_lanes, u32 *core, u32 *lane,
		     struct cz_topo *t, char *err)
{
	return cz_topo_read(root, nr, max_lanes, core, lane, t, err, 256);
}

Test(topo, siblings_adjacent, .fini = cleanup)
{
	static const char *const l[] = { "0-1", "0-1", "2-3", "2-3" };
	u32 core[4], lane[4];
	struct cz_topo t;
	char err[256] = "";

	fake_sysfs(l, 4);
	cr_assert_eq(read_fake(4, 2, core, lane, &t, err), 0, "%s", err);
	cr_assert(t.nr_cores == 2 && t.nr_smt == 2 && t.max_lanes == 2);
	cr_assert(core[0] == 0 && core[1] == 0 && core[2] == 1 && core[3] == 1);
	cr_assert(lane[0] == 0 && lane[1] == 1 && lane[2] == 0 && lane[3] == 1);
}

Test(topo, siblings_far_apart_and_offline, .fini = cleanup)
{
	static const char *const l[] = { "0,2", "1", "0,2", NULL };
	u32 core[4], lane[4];
	struct cz_topo t;
	char err[256] = "";

	fake_sysfs(l, 4);
	cr_assert_eq(read_fake(4, 2, core, lane, &t, err), 0, "%s", err);
	cr_assert(t.nr_cores == 2 && t.nr_smt == 1);
	cr_assert(core[0] == 0 && core[2] == 0 && lane[2] == 1);
	cr_assert(core[1] == 1 && lane[1] == 0);
	cr_assert_eq(core[3], CZ_NO_CORE);
}

Test(topo, no_smt, .fini = cleanup)
{
	static const char *const l[] = { "0", "1" };
	u32 core[2], lane[2];
	struct cz_topo t;
	char err[256] = "";

	fake_sysfs(l, 2);
	cr_assert_eq(read_fake(2, 2, core, lane, &t, err), 0, "%s", err);
	cr_assert(t.nr_cores == 2 && t.nr_smt == 0 && t.max_lanes == 1);
}

Test(topo, bad_lists, .fini = cleanup)
{
	static const char *const l[] = { "0-3", "1", "0-3", "0-3" };
	u32 core[4], lane[4];
	struct cz_topo t;
	char err[256] = "";

	fake_sysfs(l, 4);
	cr_assert_eq(read_fake(4, 2, core, lane, &t, err), -1);
	cr_assert(strstr(err, "CPU 0 has 4 SMT threads"), "%s", err);
	err[0] = '\0';
	/* With room for 4 lanes it reads: each CPU's own list decides. */
	cr_assert_eq(read_fake(2, 4, core, lane, &t, err), 0, "%s", err);
	cleanup();
	{
		static const char *const m[] = { "1", "x" };

		fake_sysfs(m, 2);
		cr_assert_eq(read_fake(2, 2, core, lane, &t, err), -1);
		cr_assert(strstr(err, "does not fit CPU 0"), "%s", err);
	}
}

Test(topo, cpulist)
{
	int c[8];

	cr_assert_eq(cz_parse_cpulist("0-2,5", c, 8), 4);
	cr_assert(c[0] == 0 && c[2] == 2 && c[3] == 5);
	cr_assert_eq(cz_parse_cpulist("3-1", c, 8), -1);
	cr_assert_eq(cz_parse_cpulist("0-9", c, 8), -1);
	cr_assert_eq(cz_parse_cpulist("a", c, 8), -1);
	cr_assert_eq(cz_parse_cpulist("1;2", c, 8), -1);
}

/* Write @text into the file @rel under the fake root, making its dirs. */
static void fake_file(const char *rel, const char *text)
{
	char path[256], cmd[320];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p $(dirname %s)", path);
	cr_assert_eq(system(cmd), 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%s\n", text);
	fclose(f);
}

/* Two LLCs of two CPUs (L2 per CPU below them), CPU 4 without caches. */
Test(topo, llc_highest_level, .fini = cleanup)
{
	static const char *const l[] = { "0", "1", "2", "3", "4" };
	u32 llc[5];
	char rel[128];

	fake_sysfs(l, 5);
	for (int cpu = 0; cpu < 4; cpu++) {
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/cache/index0/level", cpu);
		fake_file(rel, "2");
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/cache/index0/shared_cpu_list", cpu);
		fake_file(rel, cpu < 2 ? "0" : "2");
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/cache/index1/level", cpu);
		fake_file(rel, "3");
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%d/cache/index1/shared_cpu_list", cpu);
		fake_file(rel, cpu < 2 ? "0-1" : "2-3");
	}
	cz_topo_read_llc(root, 5, llc);
	cr_assert(llc[0] == 0 && llc[1] == 0 && llc[2] == 2 && llc[3] == 2);
	cr_assert_eq(llc[4], 4);
}
