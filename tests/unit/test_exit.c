/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit-record decoding: exit status per kind, restart requests, and the
 * report printed on stderr.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "cz.h"

static struct cz_exit_info rec(int kind, long long code, const char *reason,
			       const char *msg)
{
	struct cz_exit_info ei = { .kind = kind, .exit_code = code };

	snprintf(ei.reason, sizeof(ei.reason), "%s", reason);
	snprintf(ei.msg, sizeof(ei.msg), "%s", msg);
	return ei;
}

Test(exit, status_by_kind)
{
	struct cz_exit_info unreg = rec(64, 0, "unregistered from user space", "");
	struct cz_exit_info bpf_err = rec(1025, 0, "scx_bpf_error", "bad cpu");
	struct cz_exit_info stall = rec(1026, 0, "runnable task stall", "");
	struct cz_exit_info bpf_exit = rec(65, 7, "unregistered from BPF", "");
	struct cz_exit_info none = rec(0, 0, "", "");

	cr_assert_eq(cz_exit_status(&unreg, true), CZ_EXIT_OK);
	/* Unregistered while we did not ask: someone else stopped it. */
	cr_assert_eq(cz_exit_status(&unreg, false), CZ_EXIT_FAIL);
	cr_assert_eq(cz_exit_status(&bpf_err, true), CZ_EXIT_FAIL);
	cr_assert_eq(cz_exit_status(&stall, false), CZ_EXIT_FAIL);
	cr_assert_eq(cz_exit_status(&bpf_exit, false), 7);
	cr_assert_eq(cz_exit_status(&none, true), CZ_EXIT_OK);
	cr_assert_eq(cz_exit_status(&none, false), CZ_EXIT_FAIL);
}

Test(exit, restart_request)
{
	struct cz_exit_info hotplug = rec(66, (1LL << 48) | (1LL << 32),
					  "unregistered by the kernel", "");
	struct cz_exit_info plain = rec(66, 1LL << 32, "", "");
	struct cz_exit_info running = rec(0, 1LL << 48, "", "");

	cr_assert(cz_exit_wants_restart(&hotplug));
	cr_assert_not(cz_exit_wants_restart(&plain));
	cr_assert_not(cz_exit_wants_restart(&running));
}

Test(exit, kind_names)
{
	cr_assert_str_eq(cz_exit_kind_name(1026), "runnable task stall");
	cr_assert_str_eq(cz_exit_kind_name(64), "unregistered from user space");
	cr_assert_str_eq(cz_exit_kind_name(2000), "error");
}

Test(exit, report_has_reason_and_message)
{
	struct cz_exit_info ei = rec(1025, 0, "scx_bpf_error", "cpu 9 is invalid");
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	cz_exit_report(f, "scx_x", &ei);
	fclose(f);
	cr_assert_str_eq(buf,
		"scx_x: exit: scx_bpf_error (kind 1025, code 0)\n"
		"scx_x: exit message: cpu 9 is invalid\n");
}

Test(exit, report_names_kind_without_reason)
{
	struct cz_exit_info ei = rec(1026, 0, "", "");
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	cz_exit_report(f, "scx_x", &ei);
	fclose(f);
	cr_assert_str_eq(buf, "scx_x: exit: runnable task stall (kind 1026, code 0)\n");
}
