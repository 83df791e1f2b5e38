/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sysfs CPU lists (lib/cz_sysfs.c): ranges and singles, the bound, and
 * malformed lists refused rather than half read.
 */
#include <criterion/criterion.h>
#include "cz_ctl.h"

Test(cpulist, ranges_and_singles)
{
	int cpus[8];

	cr_assert_eq(cz_parse_cpulist("0-1", cpus, 8), 2);
	cr_assert(cpus[0] == 0 && cpus[1] == 1);
	cr_assert_eq(cz_parse_cpulist("0,2,5-7", cpus, 8), 5);
	cr_assert(cpus[1] == 2 && cpus[2] == 5 && cpus[4] == 7);
	cr_assert_eq(cz_parse_cpulist("3", cpus, 8), 1);
	cr_assert_eq(cpus[0], 3);
}

Test(cpulist, refused)
{
	int cpus[4];

	cr_assert_eq(cz_parse_cpulist("0-7", cpus, 4), -1);
	cr_assert_eq(cz_parse_cpulist("2-1", cpus, 4), -1);
	cr_assert_eq(cz_parse_cpulist("a", cpus, 4), -1);
	cr_assert_eq(cz_parse_cpulist("1;2", cpus, 4), -1);
	cr_assert_eq(cz_parse_cpulist("-1", cpus, 4), -1);
}
