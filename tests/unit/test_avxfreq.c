/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_avxfreq: the compensation and counter arithmetic of avxfreq.h (the
 * code the BPF policy runs), the frequency-model parser, good files and
 * bad ones with their exact one-line errors, and the pure parts of the
 * counter set-up (mode names, sysfs event terms, the Intel model table).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "avxfreq.h"
#include "counters.h"
#include "model.h"

#define NS_PER_YEAR	(365ULL * 24 * 3600 * 1000000000ULL)

Test(avxf_arith, ratio_and_percent_in_q16)
{
	cr_assert_eq(avxf_ratio_q16(3200, 3200), AVXF_ONE);
	cr_assert_eq(avxf_ratio_q16(1600, 3200), AVXF_ONE / 2);
	cr_assert_eq(avxf_ratio_q16(3147, 3200), 3147ULL * 65536 / 3200);
	cr_assert_eq(avxf_ratio_q16(1, 0), 0);
	cr_assert_eq(avxf_pct_q16(50), AVXF_ONE / 2);
	cr_assert_eq(avxf_pct_q16(100), AVXF_ONE);
}

Test(avxf_arith, clamp_to_min_and_one)
{
	cr_assert_eq(avxf_clamp(AVXF_ONE / 4, AVXF_ONE / 2), AVXF_ONE / 2);
	cr_assert_eq(avxf_clamp(AVXF_ONE * 2, AVXF_ONE / 2), AVXF_ONE);
	cr_assert_eq(avxf_clamp(40000, AVXF_ONE / 2), 40000);
	/* A floor above 1.0 is 1.0: no task is ever charged extra. */
	cr_assert_eq(avxf_clamp(40000, AVXF_ONE * 3), AVXF_ONE);
}

Test(avxf_arith, charge_scales_only_the_slowed_part)
{
	u32 r = avxf_ratio_q16(2400, 3200);	/* 0.75 */

	cr_assert_eq(avxf_charge(1000000, 1000000, r, 0), 750000);
	cr_assert_eq(avxf_charge(1000000, 400000, r, 0), 600000 + 300000);
	cr_assert_eq(avxf_charge(1000000, 0, r, 0), 1000000);
	/* Slowed longer than it ran: only the runtime counts. */
	cr_assert_eq(avxf_charge(1000, 5000, r, 0), 750);
	/* Clamped to the floor, and never above the runtime. */
	cr_assert_eq(avxf_charge(1000000, 1000000, AVXF_ONE / 10, AVXF_ONE / 2), 500000);
	cr_assert_eq(avxf_charge(1000000, 1000000, AVXF_ONE * 2, 0), 1000000);
}

Test(avxf_arith, no_overflow_over_long_runtimes)
{
	u32 r = AVXF_ONE / 2 + 1;
	u64 ran = 100 * NS_PER_YEAR;	/* 3.2e18 ns: x 65536 would overflow */
	u64 want = ran / 2 + ran / 65536;
	u64 got = avxf_charge(ran, ran, r, 0);

	cr_assert(got <= ran);
	cr_assert(got + 1 >= want && got <= want + 1, "got %llu, want %llu",
		  (unsigned long long)got, (unsigned long long)want);
	cr_assert_eq(avxf_scale(UINT64_MAX, AVXF_ONE), UINT64_MAX);
	cr_assert(avxf_scale(UINT64_MAX, AVXF_ONE - 1) < UINT64_MAX);
	cr_assert(avxf_scale(UINT64_MAX, AVXF_ONE - 1) > UINT64_MAX - (UINT64_MAX >> 15));
	/* Exact for small values: 3 ns at 0.5 is 1 (rounded down). */
	cr_assert_eq(avxf_scale(3, AVXF_ONE / 2), 1);
}

Test(avxf_arith, union_of_slowed_intervals)
{
	cr_assert_eq(avxf_union(0, 10, 20, 30), 20);	/* disjoint */
	cr_assert_eq(avxf_union(0, 10, 5, 30), 30);	/* overlapping */
	cr_assert_eq(avxf_union(0, 30, 5, 10), 30);	/* nested */
	cr_assert_eq(avxf_union(0, 0, 5, 10), 5);	/* one empty */
	cr_assert_eq(avxf_union(10, 5, 7, 3), 0);	/* both empty (backwards) */
	cr_assert_eq(avxf_union(100, 200, 100, 200), 100);
}

Test(avxf_counters, clock_ratio_of_large_deltas)
{
	cr_assert_eq(avxf_ratio64(3000, 3000), AVXF_ONE);
	cr_assert_eq(avxf_ratio64(2949, 3200), 2949ULL * 65536 / 3200);
	cr_assert_eq(avxf_ratio64(5, 0), 0);
	cr_assert_eq(avxf_ratio64(0, 5), 0);
	/* A year of cycles at 4 GHz against 3.2 GHz: scaled, not wrapped. */
	cr_assert_eq(avxf_ratio64(4 * NS_PER_YEAR, 32 * NS_PER_YEAR / 10),
		     AVXF_ONE * 5 / 4);
	cr_assert_eq(avxf_ratio64(~0ULL, ~0ULL), AVXF_ONE);
	/* Beyond the u32 range saturates, also when the scaling empties den. */
	cr_assert_eq(avxf_ratio64(1ULL << 40, 1), 0xffffffffu);
	cr_assert_eq(avxf_ratio64(~0ULL, 1), 0xffffffffu);
}

Test(avxf_counters, running_average_moves_an_eighth)
{
	cr_assert_eq(avxf_ewma(AVXF_ONE, AVXF_ONE / 2), AVXF_ONE - AVXF_ONE / 16);
	cr_assert_eq(avxf_ewma(AVXF_ONE / 2, AVXF_ONE), AVXF_ONE / 2 + AVXF_ONE / 16);
	cr_assert_eq(avxf_ewma(1000, 1000), 1000);
	cr_assert_eq(avxf_ewma(0xffffffffu, 0), 0xffffffffu - (0xffffffffu >> 3));
	cr_assert_eq(avxf_ewma(0, 0xffffffffu), 0xffffffffu >> 3);
}

Test(avxf_counters, wide_level_by_density)
{
	cr_assert_eq(avxf_wide_level(0, 0, 1000000), LIC_NONE);
	cr_assert_eq(avxf_wide_level(999, 0, 1000000), LIC_NONE);
	cr_assert_eq(avxf_wide_level(1000, 0, 1000000), LIC_AVX2);
	cr_assert_eq(avxf_wide_level(0, 1000, 1000000), LIC_AVX512);
	/* 512-bit work too sparse alone still counts toward wide. */
	cr_assert_eq(avxf_wide_level(600, 400, 1000000), LIC_AVX2);
	/* A period too short for the density test needs one instruction. */
	cr_assert_eq(avxf_wide_level(0, 0, 10), LIC_NONE);
	cr_assert_eq(avxf_wide_level(1, 0, 10), LIC_AVX2);
	cr_assert_eq(avxf_q16_pm(AVXF_ONE), 1000);
	cr_assert_eq(avxf_q16_pm(avxf_ratio_q16(2949, 3200)), 922);
}

Test(avxf_counters, clocks_read_close_enough_for_the_period)
{
	/* 1 ms, readings of 1 us: a sample; of 4 us each (8 > 1/128): not. */
	cr_assert(avxf_reads_tight(1000, 1000, 1000000));
	cr_assert(avxf_reads_tight(3900, 3900, 1000000));
	cr_assert_not(avxf_reads_tight(4000, 4000, 1000000));
	/* One stalled reading is enough to refuse a 20 ms period. */
	cr_assert_not(avxf_reads_tight(30000, 2000000, 20000000));
	cr_assert(avxf_reads_tight(30000, 50000, 20000000));
	/* Long readings make no overflow. */
	cr_assert_not(avxf_reads_tight(1ull << 62, 1ull << 62, ~0ull));
	cr_assert_not(avxf_reads_tight(1, 0, 0));
	cr_assert(avxf_reads_tight(0, 0, 0));
}

Test(avxf_counters, mode_names_and_event_terms)
{
	enum avxf_ctr_mode m = CTR_MODE_OFF;
	unsigned long long cfg = 0;

	cr_assert_eq(avxf_ctr_mode_parse("auto", &m), 0);
	cr_assert_eq(m, CTR_MODE_AUTO);
	cr_assert_eq(avxf_ctr_mode_parse("software", &m), 0);
	cr_assert_eq(m, CTR_MODE_SOFTWARE);
	cr_assert_eq(avxf_ctr_mode_parse("off", &m), 0);
	cr_assert_eq(m, CTR_MODE_OFF);
	cr_assert_eq(avxf_ctr_mode_parse("on", &m), -1);
	cr_assert_eq(avxf_ctr_mode_parse("", &m), -1);

	cr_assert_eq(avxf_pmu_event_config("event=0x01\n", &cfg), 0);
	cr_assert_eq(cfg, 1);
	cr_assert_eq(avxf_pmu_event_config("event=0x02", &cfg), 0);
	cr_assert_eq(cfg, 2);
	cr_assert_eq(avxf_pmu_event_config("event=12", &cfg), 0);
	cr_assert_eq(cfg, 12);
	cr_assert_eq(avxf_pmu_event_config("event=0x01,umask=0x2", &cfg), -1);
	cr_assert_eq(avxf_pmu_event_config("umask=0x01", &cfg), -1);
	cr_assert_eq(avxf_pmu_event_config("event=", &cfg), -1);
	cr_assert_eq(avxf_pmu_event_config("event=-1", &cfg), -1);
}

Test(avxf_counters, intel_models_with_wide_fp_counts)
{
	cr_assert(avxf_intel_wide_model(6, 0x55));	/* Skylake-SP */
	cr_assert(avxf_intel_wide_model(6, 0x6a));	/* Ice Lake-SP */
	cr_assert(avxf_intel_wide_model(6, 0x8f));	/* Sapphire Rapids */
	cr_assert(!avxf_intel_wide_model(6, 0x3c));	/* Haswell: no FP_ARITH */
	cr_assert(!avxf_intel_wide_model(6, 0x9e));	/* Coffee Lake: no AVX-512 */
	cr_assert(!avxf_intel_wide_model(15, 0x55));
}

Test(avxf_model, the_default_is_the_issue_figures)
{
	struct avxf_model m;
	char err[256] = "";

	cr_assert_eq(avxf_model_parse(avxf_model_default, "d", &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.mhz[W_BASE], 3200);
	cr_assert_eq(m.mhz[W_128], 3187);	/* 3184-3191: midpoint */
	cr_assert_eq(m.mhz[W_256], 3147);
	cr_assert_eq(m.mhz[W_512], 2958);	/* 2949-2967 */
	cr_assert_eq(m.hold_us, 2000);
	cr_assert_eq(avxf_model_ratio(&m, LIC_AVX2), avxf_ratio_q16(3147, 3200));
	cr_assert_eq(avxf_model_ratio(&m, LIC_AVX512), avxf_ratio_q16(2958, 3200));
	cr_assert_eq(avxf_model_ratio(&m, LIC_NONE), AVXF_ONE);
}

Test(avxf_model, comments_blanks_tabs_and_no_final_newline)
{
	struct avxf_model m;
	char err[256] = "";
	const char *t = "# a model\n\n  base\t3000   # nominal\r\n128 3000\n"
			"512 1500-1700\n256 2000\nhold_us 0";

	cr_assert_eq(avxf_model_parse(t, "t", &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m.mhz[W_BASE], 3000);
	cr_assert_eq(m.mhz[W_512], 1600);
	cr_assert_eq(m.hold_us, 0);
}

/* Each bad model and its exact error line. */
static const struct {
	const char *text, *err;
} bad[] = {
	{ "base 3200\n128 3190\n256 3100\nturbo 4000\n512 2900\n",
	  "m:4: unknown key 'turbo' (known: base, 128, 256, 512, hold_us)" },
	{ "base 3200\n128 3190\n256 31x7\n512 2900\n",
	  "m:3: '31x7' is not a frequency in MHz (1 to 100000, or LO-HI)" },
	{ "base 3200\n128 3190\n256 3100\n512 2967-2949\n",
	  "m:4: range '2967-2949' runs backwards" },
	{ "base 0\n", "m:1: '0' is not a frequency in MHz (1 to 100000, or LO-HI)" },
	{ "base 100001\n", "m:1: '100001' is not a frequency in MHz (1 to 100000, or LO-HI)" },
	{ "base 99999999999999999999\n",
	  "m:1: '99999999999999999999' is not a frequency in MHz (1 to 100000, or LO-HI)" },
	{ "base -5\n", "m:1: '-5' is not a frequency in MHz (1 to 100000, or LO-HI)" },
	{ "base 3200\nbase 3100\n", "m:2: 'base' given twice (first on line 1)" },
	{ "# c\nbase\n", "m:2: 'base' needs a value" },
	{ "base 3200 MHz\n", "m:1: unexpected 'MHz' after the value of 'base'" },
	{ "base 3200\n128 3190\n256 3100\n", "m: no '512' line (needed: base, 128, 256, 512)" },
	{ "", "m: no 'base' line (needed: base, 128, 256, 512)" },
	{ "base 3200\n128 3190\n256 3300\n512 2900\n",
	  "m:3: 256-bit frequency 3300 MHz is above base 3200 MHz" },
	{ "base 3200\n128 3190\n512 3150\n256 3100\n",
	  "m:3: 512-bit frequency 3150 MHz is above the 256-bit one (3100 MHz)" },
	{ "base 3200\n128 3190\n256 3100\n512 2900\nhold_us 10000001\n",
	  "m:5: hold_us '10000001' is not a whole number of microseconds in [0, 10000000]" },
	{ "base 3200\n128 3190\n256 3100\n512 2900\nhold_us 1.5\n",
	  "m:5: hold_us '1.5' is not a whole number of microseconds in [0, 10000000]" },
};

Test(avxf_model, bad_files_name_line_and_problem)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct avxf_model m;
		char err[256] = "";

		cr_assert_eq(avxf_model_parse(bad[i].text, "m", &m, err, sizeof(err)), -1,
			     "case %zu parsed", i);
		cr_assert_str_eq(err, bad[i].err, "case %zu", i);
		cr_assert_null(strchr(err, '\n'), "case %zu: one line", i);
	}
}

Test(avxf_model, long_line_is_refused)
{
	char text[400], err[256] = "";
	struct avxf_model m;

	memset(text, ' ', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "base 3200\n", 10);
	cr_assert_eq(avxf_model_parse(text, "m", &m, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "m:2: line longer than 256 characters");
}

Test(avxf_model, files)
{
	char path[] = "/tmp/test_avxfreq_XXXXXX", err[256] = "";
	struct avxf_model m;
	int fd = mkstemp(path);
	const char good[] = "base 3200\n128 3200\n256 1920\n512 1600\n";

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, good, sizeof(good) - 1), (ssize_t)sizeof(good) - 1);
	close(fd);
	cr_assert_eq(avxf_model_load(path, &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(avxf_model_ratio(&m, LIC_AVX2), avxf_ratio_q16(1920, 3200));

	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "\0", 1), 1);
	close(fd);
	cr_assert_eq(avxf_model_load(path, &m, err, sizeof(err)), -1);
	cr_assert(strstr(err, "not a text file"), "%s", err);
	unlink(path);

	cr_assert_eq(avxf_model_load("/nonexistent/m", &m, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "/nonexistent/m: No such file or directory");
}
