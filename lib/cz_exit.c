/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decoding what the kernel said when it disabled a scheduler (the record
 * ops.exit copied into the "cz_exit" map): a name for the exit kind, the
 * loader's exit status, whether the kernel asked for a restart, and the
 * report printed on stderr.
 *
 * The values mirror the kernel's enum scx_exit_kind and SCX_ECODE_* bits,
 * which are ABI: userspace cannot include vmlinux.h, so they are restated.
 */
#include <string.h>
#include "cz.h"

enum {
	SCX_EXIT_NONE		= 0,
	SCX_EXIT_DONE		= 1,
	SCX_EXIT_UNREG		= 64,
	SCX_EXIT_UNREG_BPF	= 65,
	SCX_EXIT_UNREG_KERN	= 66,
	SCX_EXIT_SYSRQ		= 67,
	SCX_EXIT_ERROR		= 1024,
	SCX_EXIT_ERROR_BPF	= 1025,
	SCX_EXIT_ERROR_STALL	= 1026,
};

#define SCX_ECODE_ACT_RESTART	(1ULL << 48)

const char *cz_exit_kind_name(int kind)
{
	switch (kind) {
	case SCX_EXIT_NONE:		return "none";
	case SCX_EXIT_DONE:		return "done";
	case SCX_EXIT_UNREG:		return "unregistered from user space";
	case SCX_EXIT_UNREG_BPF:	return "unregistered from BPF";
	case SCX_EXIT_UNREG_KERN:	return "unregistered by the kernel";
	case SCX_EXIT_SYSRQ:		return "disabled by sysrq-S";
	case SCX_EXIT_ERROR:		return "runtime error";
	case SCX_EXIT_ERROR_BPF:	return "scx_bpf_error() called";
	case SCX_EXIT_ERROR_STALL:	return "runnable task stall";
	}
	return kind >= SCX_EXIT_ERROR ? "error" : "unregistered";
}

bool cz_exit_wants_restart(const struct cz_exit_info *ei)
{
	return ei->kind && ((u64)ei->exit_code & SCX_ECODE_ACT_RESTART);
}

/*
 * 0 when we stopped the scheduler or it unregistered itself cleanly; an
 * scx_bpf_exit() code is passed through; any error kind is a failure.
 */
int cz_exit_status(const struct cz_exit_info *ei, bool stopped_by_us)
{
	if (ei->kind >= SCX_EXIT_ERROR)
		return CZ_EXIT_FAIL;
	if (ei->kind == SCX_EXIT_UNREG_BPF && ei->exit_code)
		return (int)(ei->exit_code & 0xff) ?: CZ_EXIT_FAIL;
	if (ei->kind == SCX_EXIT_NONE && !stopped_by_us)
		return CZ_EXIT_FAIL;
	if (ei->kind == SCX_EXIT_UNREG && !stopped_by_us)
		return CZ_EXIT_FAIL;
	return CZ_EXIT_OK;
}

void cz_exit_report(FILE *f, const char *prog, const struct cz_exit_info *ei)
{
	const char *reason = ei->reason[0] ? ei->reason : cz_exit_kind_name(ei->kind);

	fprintf(f, "%s: exit: %s (kind %d, code %lld)\n", prog, reason,
		ei->kind, (long long)ei->exit_code);
	if (ei->msg[0])
		fprintf(f, "%s: exit message: %s\n", prog, ei->msg);
}
