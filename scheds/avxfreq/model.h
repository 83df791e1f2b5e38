/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_avxfreq's frequency model, userspace side: a small text file that
 * gives the core's frequency at each license level, and how long a level
 * is held after the wide-vector code stops. Without counters this is all
 * the policy knows about frequencies.
 *
 *   # comment
 *   base     3200          nominal frequency, MHz
 *   128      3184-3191     128-bit (SSE/AVX-128) code; a range means its midpoint
 *   256      3147          256-bit (AVX2) code
 *   512      2949-2967     512-bit (AVX-512) code
 *   hold_us  2000          the level is held this long after the code stops
 *
 * Every key but hold_us is required, once; frequencies are whole MHz in
 * [1, 100000] and may not rise with the vector width nor exceed base.
 * Errors are one line naming the file, the line and the problem.
 */
#ifndef __AVXFREQ_MODEL_H
#define __AVXFREQ_MODEL_H

#include <stddef.h>
#include "avxfreq.h"

enum {
	AVXF_MHZ_MAX		= 100000,
	AVXF_HOLD_US_MAX	= 10 * 1000 * 1000,
	AVXF_HOLD_US_DFL	= 2000,
	AVXF_MODEL_MAX_BYTES	= 64 * 1024,
};

/* The vector widths the file names, in its key order. */
enum avxf_width {
	W_BASE,
	W_128,
	W_256,
	W_512,
	NR_WIDTHS,
};

struct avxf_model {
	u32	mhz[NR_WIDTHS];
	u32	hold_us;
};

/* The figures (one Intel server CPU), used without --model. */
extern const char avxf_model_default[];

/* Parse @text; @name is what errors call it. 0, or -1 with one line in @err. */
int avxf_model_parse(const char *text, const char *name, struct avxf_model *m,
		     char *err, size_t errlen);
/* Read and parse the file at @path. 0, or -1 with one line in @err. */
int avxf_model_load(const char *path, struct avxf_model *m, char *err,
		    size_t errlen);
/* Q16 frequency ratio of a license level (LIC_NONE: 1.0). */
u32 avxf_model_ratio(const struct avxf_model *m, enum avxfreq_level level);

#endif /* __AVXFREQ_MODEL_H */
