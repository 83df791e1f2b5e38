/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types shared by the BPF side and the userspace side of every scheduler:
 * the exit record, the per-CPU statistics layout, the live tunables,
 * and the task-set limits and keys.
 *
 * The BPF side gets u32/u64 (and bool) from vmlinux.h; userspace gets the
 * same names here, because bpftool's skeletons declare globals with the
 * BPF side's types.
 */
#ifndef __CZ_SHARED_H
#define __CZ_SHARED_H

#ifndef __VMLINUX_H__
#include <stdbool.h>
#include <linux/types.h>
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
#endif

/*
 * CPU ids are bounded for the verifier's sake (per-CPU tables in BPF, and
 * what loaders fill them from); 1024 covers our zones.
 */
#define CZ_MAX_CPUS	1024

enum {
	CZ_EXIT_REASON_LEN	= 128,
	CZ_EXIT_MSG_LEN		= 1024,
	/* Upper bound on stats slots per scheduler (map size). */
	CZ_MAX_STATS		= 32,
	/* Upper bound on live tunables per scheduler (map size). */
	CZ_MAX_TUNABLES		= 16,
};

/*
 * What the kernel told the scheduler when it was disabled. Filled by the
 * BPF side's ops.exit into the one-element map "cz_exit"; kind != 0 means
 * the scheduler has exited.
 */
struct cz_exit_info {
	s32	kind;		/* enum scx_exit_kind */
	s32	pad;
	s64	exit_code;	/* SCX_ECODE_* bits, or scx_bpf_exit()'s code */
	char	reason[CZ_EXIT_REASON_LEN];
	char	msg[CZ_EXIT_MSG_LEN];
};

/*
 * Statistics are declared once per scheduler as an X-macro list:
 *   #define FOO_STATS(X) X(FOO_STAT_X, "key", CZ_STAT_COUNTER, "what it counts")
 * The BPF side turns it into an enum of slot indices; userspace into the
 * descriptor table that drives the terminal line and JSON.
 */
enum cz_stat_kind {
	CZ_STAT_COUNTER,	/* monotonic; reported as a per-interval delta */
	CZ_STAT_GAUGE,		/* current value (written to CPU 0's slot) */
	CZ_STAT_PERCPU,		/* counter also reported per CPU */
};

#define CZ_STAT_ENUM(id, key, kind, desc) id,

/*
 * Live tunables are declared once per scheduler the same way:
 *   #define FOO_TUNABLES(X) X(FOO_TUN_X, "name", min, max, default, "what it sets")
 * Values are unsigned integers in [min, max]. The BPF side reads them from
 * the array map "cz_tunables" at each use (cz_tunable()); userspace makes the
 * command-line options, the range checks and the socket's "set" request
 * from the same list.
 */
#define CZ_TUNABLE_ENUM(id, name, min, max, dfl, desc) id,

/*
 * Task sets (include/cz_taskset.bpf.h, lib/cz_taskset.h): rules that put
 * tasks into sets by thread group, comm or cgroup. Map values are masks of
 * set bits (1 << set), so one set of maps serves up to 32 sets.
 */
enum {
	CZ_TS_COMM_LEN		= 16,	/* the kernel's TASK_COMM_LEN, NUL included */
	CZ_TS_MAX_SETS		= 32,	/* bits of a set mask */
	CZ_TS_MAX_TGIDS		= 4096,
	CZ_TS_MAX_COMMS		= 256,
	CZ_TS_MAX_CGROUPS	= 64,
	/* Cgroup levels below the root that the BPF matcher looks at. */
	CZ_TS_MAX_DEPTH		= 32,
};

/* Key of the comm map: the comm, NUL-padded to its full length. */
struct cz_ts_comm {
	char	name[CZ_TS_COMM_LEN];
};

#endif /* __CZ_SHARED_H */
