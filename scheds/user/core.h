/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scx_user's policy thread (core.c): started once the scheduler attached,
 * stopped once it was detached.
 */
#ifndef __USER_CORE_H
#define __USER_CORE_H

#include "policy.h"

struct user;

/* The registered policies (CZ_USER_POLICY), and the one called @name. */
const struct cz_user_policy *const *cz_user_policies(size_t *nr);
const struct cz_user_policy *cz_user_policy_find(const char *name);

/* 0, or -1 after saying why. */
int user_core_start(struct user *skel, const struct cz_user_policy *pol);
void user_core_stop(void);

#endif /* __USER_CORE_H */
