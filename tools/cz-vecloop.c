/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-vecloop: a CPU hog of one kind, for scx_avxfreq's tests and benchmark.
 *
 *   cz-vecloop avx2     256-bit AVX2 arithmetic; the YMM registers' upper
 *                       halves stay non-zero, so every saved XSAVE state
 *                       shows live YMM state (no call, no VZEROUPPER)
 *   cz-vecloop scalar   integer arithmetic only
 *
 * Each runs until killed and names itself czvec-avx2 or czvec-scalar
 * (its comm), so rules and ps can tell them apart. Only the AVX2 loop is
 * compiled for AVX2 (a target attribute), so the scalar one cannot pick
 * up vector instructions from the compiler. Exit 2: bad usage; 1: the CPU
 * lacks AVX2.
 */
#include <immintrin.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

__attribute__((target("avx2"), noreturn)) static void avx2_loop(void)
{
	__m256i acc = _mm256_set1_epi32(1), step = _mm256_set1_epi32(3);

	for (;;) {
		acc = _mm256_add_epi32(_mm256_mullo_epi32(acc, step), step);
		/* Keeps acc in a YMM register, live, on every iteration. */
		__asm__ volatile("" : "+x"(acc));
	}
}

__attribute__((noreturn)) static void scalar_loop(void)
{
	unsigned long acc = 1;

	for (;;) {
		acc = acc * 3 + 3;
		__asm__ volatile("" : "+r"(acc));
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "avx2")) {
		if (!__builtin_cpu_supports("avx2")) {
			fprintf(stderr, "cz-vecloop: this CPU has no AVX2\n");
			return 1;
		}
		prctl(PR_SET_NAME, "czvec-avx2");
		avx2_loop();
	}
	if (argc == 2 && !strcmp(argv[1], "scalar")) {
		prctl(PR_SET_NAME, "czvec-scalar");
		scalar_loop();
	}
	fprintf(stderr, "usage: cz-vecloop avx2|scalar\n");
	return 2;
}
