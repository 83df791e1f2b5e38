/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the zone file's readers share (cz_zone.c, the machine, services
 * and files; cz_zone_auto.c, the switching rules and service probes): the
 * walk over libfyaml's document and the readers of its values. Each
 * problem is reported once, as FILE:LINE: KEY: problem, and stops the walk.
 */
#ifndef __CZ_ZONE_PRIV_H
#define __CZ_ZONE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <libfyaml.h>
#include "cz_zone.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

enum {
	KEY_MAX		= 128,	/* a key's path, e.g. services[3].ports[0] */
};

/* Where the walk is: the file, its document, the first error. */
struct walk {
	struct cz_zone	*z;
	const char	*path;
	char		*err;
	size_t		errlen;
	bool		failed;
};

/*
 * The keys of one mapping: each with a reader of its value. @line is the
 * key's line; @key its whole path.
 */
struct field {
	const char	*name;
	bool		required;
	int		(*read)(struct walk *w, struct fy_node *v, int line,
				const char *key, void *obj);
};

typedef int (*item_fn)(struct walk *w, struct fy_node *item, int line,
		       const char *key, void *obj);

/* 1-based line of @n (a scalar's token, or the first key of a mapping). */
int zy_line_of(struct fy_node *n);
/* Stop the walk with FILE:LINE: KEY: problem; -1. */
int zy_fail(struct walk *w, int line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "a mapping", "a list", "a scalar" or "nothing", for messages. */
const char *zy_kind_of(struct fy_node *n);
/* A scalar's text (malloc'd), or NULL after failing. */
char *zy_text(struct walk *w, struct fy_node *n, int line, const char *key);
int zy_number(struct walk *w, struct fy_node *n, int line, const char *key,
	      unsigned long min, unsigned long max, unsigned long *out);
int zy_strv_add(struct cz_strv *sv, char *s);
void zy_strv_free(struct cz_strv *sv);
/* @fn for each item of the list @v, with its line and key KEY[i]. */
int zy_each_item(struct walk *w, struct fy_node *v, int line,
		 const char *key, const char *what, item_fn fn, void *obj);
/* A list of scalars. */
int zy_strings(struct walk *w, struct fy_node *n, int line, const char *key,
	       struct cz_strv *out);
/* The keys of the mapping @n by @fields; unknown or missing keys fail. */
int zy_walk_mapping(struct walk *w, struct fy_node *n, int line,
		    const char *prefix, const struct field *fields,
		    unsigned int nr, void *obj);
/* 1 to @max - 1 of a-z, 0-9, '-', '_', starting with a letter or digit. */
bool zy_name_ok(const char *s, size_t max);
/* One of @names (NULL-terminated): its index into *@out. */
int zy_choice(struct walk *w, struct fy_node *v, int line, const char *key,
	      const char *const *names, const char *expect, int *out);

/* cz_zone_auto.c: the `auto` key, a service's `probe`, and their checks
 * once the whole file is read (signals named, modes and ports exist). */
int zy_read_auto(struct walk *w, struct fy_node *v, int line,
		 const char *key, void *obj);
int zy_read_probe(struct walk *w, struct fy_node *v, int line,
		  const char *key, void *obj);
int zy_check_auto(struct walk *w);
void zy_free_auto(struct cz_zone *z);

#endif /* __CZ_ZONE_PRIV_H */
