/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-vecloop: a CPU hog of one kind, for scx_avxfreq's tests and benchmark.
 *
 *   cz-vecloop avx2 [SECS]     256-bit AVX2 integer arithmetic
 *   cz-vecloop avx512 [SECS]   512-bit AVX-512 integer arithmetic
 *   cz-vecloop scalar [SECS]   integer arithmetic only
 *
 * The vector loops keep their registers' upper halves non-zero (no call,
 * no VZEROUPPER inside the loop), so the XSAVE state saved whenever the
 * task is switched out shows live YMM/ZMM state. Each names itself
 * czvec-MODE (its comm), so rules and ps can tell them apart. Without SECS
 * it runs until killed; with SECS it stops after that long and prints
 * "MODE ITERATIONS CPU_NS": the work done and the CPU time it got (the
 * benchmark compares them solo and paired).
 * Only the vector loops are compiled for their extension (a target
 * attribute), so the scalar one gets no vector instructions from the
 * compiler. Exit 2: bad usage; 1: the CPU lacks the extension.
 */
#include <immintrin.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

enum {
	BATCH	= 1024,		/* iterations between looks at the stop flag */
	MAX_SECS = 86400,
};

static volatile sig_atomic_t stop;

static void on_alarm(int sig)
{
	(void)sig;
	stop = 1;
}

__attribute__((target("avx2"))) static unsigned long avx2_loop(void)
{
	__m256i acc = _mm256_set1_epi32(1), step = _mm256_set1_epi32(3);
	unsigned long n = 0;

	while (!stop) {
		for (int i = 0; i < BATCH; i++) {
			acc = _mm256_add_epi32(_mm256_mullo_epi32(acc, step), step);
			/* Keeps acc in a register, live, on every iteration. */
			__asm__ volatile("" : "+x"(acc));
		}
		n += BATCH;
	}
	return n;
}

__attribute__((target("avx512f"))) static unsigned long avx512_loop(void)
{
	__m512i acc = _mm512_set1_epi32(1), step = _mm512_set1_epi32(3);
	unsigned long n = 0;

	while (!stop) {
		for (int i = 0; i < BATCH; i++) {
			acc = _mm512_add_epi32(_mm512_mullo_epi32(acc, step), step);
			__asm__ volatile("" : "+v"(acc));
		}
		n += BATCH;
	}
	return n;
}

static unsigned long scalar_loop(void)
{
	unsigned long acc = 1, n = 0;

	while (!stop) {
		for (int i = 0; i < BATCH; i++) {
			acc = acc * 3 + 3;
			__asm__ volatile("" : "+r"(acc));
		}
		n += BATCH;
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	unsigned long (*loop)(void);
	char comm[16];
	long secs = 0;

	if (!strcmp(mode, "avx2")) {
		if (!__builtin_cpu_supports("avx2")) {
			fprintf(stderr, "cz-vecloop: this CPU has no AVX2\n");
			return 1;
		}
		loop = avx2_loop;
	} else if (!strcmp(mode, "avx512")) {
		if (!__builtin_cpu_supports("avx512f")) {
			fprintf(stderr, "cz-vecloop: this CPU has no AVX-512\n");
			return 1;
		}
		loop = avx512_loop;
	} else if (!strcmp(mode, "scalar")) {
		loop = scalar_loop;
	} else {
		argc = 0;
	}
	if (argc == 3) {
		char *end;

		secs = strtol(argv[2], &end, 10);
		if (*end || end == argv[2] || secs < 1 || secs > MAX_SECS)
			argc = 0;
	}
	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: cz-vecloop avx2|avx512|scalar [SECS (1-%d)]\n",
			MAX_SECS);
		return 2;
	}
	snprintf(comm, sizeof(comm), "czvec-%s", mode);
	prctl(PR_SET_NAME, comm);
	if (secs) {
		signal(SIGALRM, on_alarm);
		alarm(secs);
	}
	unsigned long n = loop();
	struct timespec cpu;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	printf("%s %lu %llu\n", mode, n,
	       cpu.tv_sec * 1000000000ULL + (unsigned long long)cpu.tv_nsec);
	return 0;
}
