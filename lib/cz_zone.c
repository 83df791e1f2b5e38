/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The zone file (cz_zone.h): libfyaml builds the document, and the schema
 * below walks it. Each mapping of the schema is a table of keys, each
 * with a reader that checks its value and stores it; a key not in the
 * table, a missing required key or a value of the wrong shape stops the
 * walk with one line, FILE:LINE: KEY: problem.
 *
 * Key choices:
 * - YAML's own errors (bad indentation, an unclosed bracket, a duplicate
 *   key) come from libfyaml's diagnostics; we keep the first one's
 *   position and message, in the same one-line form.
 * - Scalars are read as text and converted here, so "1024M", 1024 and
 *   "1024" mean the same, and a value of the wrong kind says what was
 *   expected rather than what YAML's type guessing made of it.
 * - A line is a key's line (1-based); for an item of a list, the item's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <libfyaml.h>
#include "cz_util.h"
#include "cz_zone.h"
#include "cz_zone_priv.h"

enum {
	MAX_FIELDS	= 16,	/* keys of one mapping in the schema */
	MAX_THREADS	= 8,
	MAX_PORT	= 65535,
	SVC_NAME_MAX	= 64,
};

/* 1-based line of @n (a scalar's token, or the first key of a mapping). */
int zy_line_of(struct fy_node *n)
{
	struct fy_token *t;
	const struct fy_mark *m;

	while (n && fy_node_is_mapping(n)) {
		void *it = NULL;
		struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);

		n = p ? fy_node_pair_key(p) : NULL;
	}
	while (n && fy_node_is_sequence(n)) {
		void *it = NULL;

		n = fy_node_sequence_iterate(n, &it);
	}
	t = n ? fy_node_get_scalar_token(n) : NULL;
	m = t ? fy_token_start_mark(t) : NULL;
	return m ? m->line + 1 : 0;
}

int zy_fail(struct walk *w, int line, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (w->failed)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(w->err, w->errlen, "%s:%d: %s: %s", w->path, line, key, msg);
	w->failed = true;
	return -1;
}

const char *zy_kind_of(struct fy_node *n)
{
	if (!n)
		return "nothing";
	if (fy_node_is_mapping(n))
		return "a mapping";
	if (fy_node_is_sequence(n))
		return "a list";
	return "a scalar";
}

/* A scalar's text, NUL-terminated (malloc'd), or NULL after failing. */
char *zy_text(struct walk *w, struct fy_node *n, int line, const char *key)
{
	const char *s;
	size_t len;
	char *out;

	if (!n || !fy_node_is_scalar(n) || fy_node_is_alias(n)) {
		zy_fail(w, line, key, "expected a value, got %s", zy_kind_of(n));
		return NULL;
	}
	s = fy_node_get_scalar(n, &len);
	if (!s || memchr(s, '\0', len)) {
		zy_fail(w, line, key, "a value with a NUL byte");
		return NULL;
	}
	if (!len && fy_node_get_style(n) == FYNS_PLAIN) {
		zy_fail(w, line, key, "a value is required");
		return NULL;
	}
	out = strndup(s, len);
	if (!out)
		zy_fail(w, line, key, "out of memory");
	return out;
}

int zy_number(struct walk *w, struct fy_node *n, int line, const char *key,
		  unsigned long min, unsigned long max, unsigned long *out)
{
	char *s = zy_text(w, n, line, key), err[128];
	double v;
	int ret = 0;

	if (!s)
		return -1;
	if (cz_parse_num(s, min, max, true, &v, err, sizeof(err)))
		ret = zy_fail(w, line, key, "%s", err);
	else
		*out = (unsigned long)v;
	free(s);
	return ret;
}

int zy_strv_add(struct cz_strv *sv, char *s)
{
	char **v = realloc(sv->v, (sv->n + 1) * sizeof(*v));

	if (!v)
		return -1;
	sv->v = v;
	sv->v[sv->n++] = s;
	return 0;
}

void zy_strv_free(struct cz_strv *sv)
{
	for (unsigned int i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}


/*
 * Call @fn for each item of the list @v, with the item's line and its key
 * (KEY[i]); @what says what the list holds, for the error.
 */
int zy_each_item(struct walk *w, struct fy_node *v, int line,
		     const char *key, const char *what, item_fn fn, void *obj)
{
	struct fy_node *item;
	void *it = NULL;
	unsigned int i = 0;

	if (!v || !fy_node_is_sequence(v))
		return zy_fail(w, line, key, "expected a list%s%s, got %s",
			    what ? " of " : "", what ?: "", zy_kind_of(v));
	while ((item = fy_node_sequence_iterate(v, &it))) {
		char sub[KEY_MAX];

		snprintf(sub, sizeof(sub), "%s[%u]", key, i++);
		if (fn(w, item, zy_line_of(item) ?: line, sub, obj))
			return -1;
	}
	return 0;
}

static int string_item(struct walk *w, struct fy_node *item, int line,
		       const char *key, void *obj)
{
	char *s = zy_text(w, item, line, key);

	if (!s)
		return -1;
	if (zy_strv_add(obj, s)) {
		free(s);
		return zy_fail(w, line, key, "out of memory");
	}
	return 0;
}

/* A list of scalars, e.g. a command's arguments. */
int zy_strings(struct walk *w, struct fy_node *n, int line, const char *key,
		   struct cz_strv *out)
{
	return zy_each_item(w, n, line, key, NULL, string_item, out);
}


int zy_walk_mapping(struct walk *w, struct fy_node *n, int line,
			const char *prefix, const struct field *fields,
			unsigned int nr, void *obj)
{
	bool seen[MAX_FIELDS] = { false };
	struct fy_node_pair *p;
	void *it = NULL;
	char known[256] = "", key[KEY_MAX];
	size_t off = 0;

	for (unsigned int i = 0; i < nr && off < sizeof(known); i++)
		off += snprintf(known + off, sizeof(known) - off, "%s%s",
				i ? ", " : "", fields[i].name);
	if (!n || !fy_node_is_mapping(n))
		return zy_fail(w, line, *prefix ? prefix : "zone",
			    "expected a mapping of keys (%s), got %s", known,
			    zy_kind_of(n));
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		const char *name;
		size_t len;
		unsigned int i;
		int kl = zy_line_of(k);

		name = fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
		if (!name)
			return zy_fail(w, kl, *prefix ? prefix : "zone",
				    "a key must be a plain name");
		snprintf(key, sizeof(key), "%s%s%.*s", prefix, *prefix ? "." : "",
			 (int)len, name);
		for (i = 0; i < nr; i++)
			if (strlen(fields[i].name) == len &&
			    !memcmp(fields[i].name, name, len))
				break;
		if (i == nr)
			return zy_fail(w, kl, key, "unknown key (known: %s)", known);
		seen[i] = true;
		if (fields[i].read(w, fy_node_pair_value(p), kl, key, obj))
			return -1;
	}
	for (unsigned int i = 0; i < nr; i++) {
		if (seen[i] || !fields[i].required)
			continue;
		snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "",
			 fields[i].name);
		return zy_fail(w, line, key, "missing (a required key)");
	}
	return 0;
}

/* ---- top-level keys ---- */

bool zy_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n >= max || !((s[0] >= 'a' && s[0] <= 'z') ||
				(s[0] >= '0' && s[0] <= '9')))
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') &&
		    *s != '-' && *s != '_')
			return false;
	return true;
}

static int read_name(struct walk *w, struct fy_node *v, int line,
		     const char *key, void *obj)
{
	struct cz_zone *z = obj;
	char *s = zy_text(w, v, line, key);
	int ret = 0;

	if (!s)
		return -1;
	if (!zy_name_ok(s, sizeof(z->name)))
		ret = zy_fail(w, line, key, "'%s' is not a zone name (1 to %zu of a-z, 0-9, '-', '_', starting with a letter or digit)",
			   s, sizeof(z->name) - 1);
	else
		strcpy(z->name, s);
	free(s);
	return ret;
}

/* "7.3" or "7.3.4": what vmconfigs/kernels and fetch-kernel resolve. */
static bool version_ok(const char *s)
{
	int dots = 0;

	if (!*s || *s == '.')
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (p[1] == '.' || !p[1])
				return false;
			dots++;
		} else if (*p < '0' || *p > '9') {
			return false;
		}
	}
	return dots == 1 || dots == 2;
}

static int read_kernel_path(struct walk *w, struct fy_node *v, int line,
			    const char *key, char **out)
{
	*out = zy_text(w, v, line, key);
	if (!*out)
		return -1;
	if ((*out)[0] != '/')
		return zy_fail(w, line, key, "'%s' is not an absolute path", *out);
	return 0;
}

static int read_kernel_image(struct walk *w, struct fy_node *v, int line,
			     const char *key, void *obj)
{
	return read_kernel_path(w, v, line, key, &((struct cz_zone *)obj)->kernel_image);
}

static int read_kernel_config(struct walk *w, struct fy_node *v, int line,
			      const char *key, void *obj)
{
	return read_kernel_path(w, v, line, key, &((struct cz_zone *)obj)->kernel_config);
}

static const struct field kernel_fields[] = {
	{ "image", true, read_kernel_image },
	{ "config", true, read_kernel_config },
};

static int read_kernel(struct walk *w, struct fy_node *v, int line,
		       const char *key, void *obj)
{
	struct cz_zone *z = obj;

	z->line_kernel = line;
	if (v && fy_node_is_mapping(v))
		return zy_walk_mapping(w, v, line, key, kernel_fields,
				    ARRAY_LEN(kernel_fields), z);
	z->kernel = zy_text(w, v, line, key);
	if (!z->kernel)
		return -1;
	if (!version_ok(z->kernel))
		return zy_fail(w, line, key, "'%s' is not a kernel version such as 7.3 or 7.3.4 (or give {image: PATH, config: PATH})",
			    z->kernel);
	return 0;
}

static int read_cmdline(struct walk *w, struct fy_node *v, int line,
			const char *key, void *obj)
{
	struct cz_zone *z = obj;

	free(z->cmdline);
	z->cmdline = zy_text(w, v, line, key);
	if (!z->cmdline)
		return -1;
	if (strpbrk(z->cmdline, "\n\r"))
		return zy_fail(w, line, key, "one line of kernel arguments, not several");
	return 0;
}

static int read_cores(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	unsigned long n;

	if (zy_number(w, v, line, key, 1, CZ_ZONE_MAX_VCPUS, &n))
		return -1;
	((struct cz_zone *)obj)->cores = n;
	return 0;
}

static int read_threads(struct walk *w, struct fy_node *v, int line,
			const char *key, void *obj)
{
	unsigned long n;

	if (zy_number(w, v, line, key, 1, MAX_THREADS, &n))
		return -1;
	((struct cz_zone *)obj)->threads = n;
	return 0;
}

static const struct field cpus_fields[] = {
	{ "cores", true, read_cores },
	{ "threads", false, read_threads },
};

/* cpus: N (N cores of one thread) or {cores: C, threads: T}. */
static int read_cpus(struct walk *w, struct fy_node *v, int line,
		     const char *key, void *obj)
{
	struct cz_zone *z = obj;

	if (v && fy_node_is_mapping(v)) {
		if (zy_walk_mapping(w, v, line, key, cpus_fields,
				 ARRAY_LEN(cpus_fields), z))
			return -1;
	} else if (read_cores(w, v, line, key, z)) {
		return -1;
	}
	if (cz_zone_vcpus(z) > CZ_ZONE_MAX_VCPUS)
		return zy_fail(w, line, key, "%u cores x %u threads is more than %d vCPUs",
			    z->cores, z->threads, CZ_ZONE_MAX_VCPUS);
	return 0;
}

/* memory: MiB as a number, or with a unit: 512M, 1G. */
static int read_memory(struct walk *w, struct fy_node *v, int line,
		       const char *key, void *obj)
{
	struct cz_zone *z = obj;
	char *s = zy_text(w, v, line, key), err[128], *unit;
	unsigned long mult = 1;
	double n;
	int ret = 0;

	if (!s)
		return -1;
	unit = s + strspn(s, "0123456789");
	if (unit != s && (!strcmp(unit, "G") || !strcmp(unit, "GiB")))
		mult = 1024;
	else if (unit != s && *unit && strcmp(unit, "M") && strcmp(unit, "MiB"))
		unit = NULL;
	if (unit)
		*unit = '\0';
	if (!unit || cz_parse_num(s, 1, CZ_ZONE_MEM_MAX_MIB, true, &n, err, sizeof(err)))
		ret = zy_fail(w, line, key, "not a size such as 1024, 1024M or 1G");
	else if (n * mult < CZ_ZONE_MEM_MIN_MIB || n * mult > CZ_ZONE_MEM_MAX_MIB)
		ret = zy_fail(w, line, key, "%.0f MiB is outside [%d, %d] MiB (a zone needs room for its initramfs)",
			   n * mult, CZ_ZONE_MEM_MIN_MIB, CZ_ZONE_MEM_MAX_MIB);
	else
		z->memory_mib = n * mult;
	free(s);
	return ret;
}

static int read_host_cpus(struct walk *w, struct fy_node *v, int line,
			  const char *key, void *obj)
{
	struct cz_zone *z = obj;
	int cpus[CPU_SETSIZE], n;
	char *s = zy_text(w, v, line, key);

	if (!s)
		return -1;
	n = cz_parse_cpulist(s, cpus, CPU_SETSIZE);
	if (n <= 0) {
		zy_fail(w, line, key, "'%s' is not a CPU list such as 0-1 or 2,3", s);
		free(s);
		return -1;
	}
	free(s);
	CPU_ZERO(&z->host_cpus);
	for (int i = 0; i < n; i++)
		CPU_SET(cpus[i], &z->host_cpus);
	z->line_host_cpus = line;
	return 0;
}

/* One of @names (NULL-terminated): its index into *@out. */
int zy_choice(struct walk *w, struct fy_node *v, int line, const char *key,
		  const char *const *names, const char *expect, int *out)
{
	char *s = zy_text(w, v, line, key);

	if (!s)
		return -1;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			free(s);
			return 0;
		}
	}
	zy_fail(w, line, key, "'%s' is not %s", s, expect);
	free(s);
	return -1;
}

const char *const cz_accel_names[] = { "auto", "kvm", "tcg", NULL };
const char *const cz_restart_names[] = { "on-failure", "always", "no", NULL };

static int read_accel(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	struct cz_zone *z = obj;
	int i;

	if (zy_choice(w, v, line, key, cz_accel_names, "auto, kvm or tcg", &i))
		return -1;
	z->accel = i;
	return 0;
}

/* ---- scheduler ---- */

static int read_sched_name(struct walk *w, struct fy_node *v, int line,
			   const char *key, void *obj)
{
	struct cz_zone *z = obj;
	char *s = zy_text(w, v, line, key);
	const char *ops;

	if (!s)
		return -1;
	/* scx_central or central, as czctl takes them. */
	ops = strncmp(s, "scx_", 4) ? s : s + 4;
	if (!zy_name_ok(ops, 128) || asprintf(&z->sched, "scx_%s", ops) < 0) {
		z->sched = NULL;
		zy_fail(w, line, key, "'%s' is not a scheduler name (scx_NAME or NAME: a-z, 0-9, '-', '_')",
		     s);
		free(s);
		return -1;
	}
	free(s);
	z->line_sched = line;
	return 0;
}

static int read_sched_args(struct walk *w, struct fy_node *v, int line,
			   const char *key, void *obj)
{
	return zy_strings(w, v, line, key, &((struct cz_zone *)obj)->sched_args);
}

static int read_modes(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	struct cz_zone *z = obj;
	struct fy_node_pair *p;
	void *it = NULL;

	if (!v || !fy_node_is_mapping(v))
		return zy_fail(w, line, key, "expected a mapping of mode names to argument lists, got %s",
			    zy_kind_of(v));
	while ((p = fy_node_mapping_iterate(v, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		int kl = zy_line_of(k);
		char sub[KEY_MAX], *name = zy_text(w, k, kl, key);
		struct cz_zone_mode *m;

		if (!name)
			return -1;
		snprintf(sub, sizeof(sub), "%s.%s", key, name);
		if (!zy_name_ok(name, 64)) {
			zy_fail(w, kl, sub, "'%s' is not a mode name (a-z, 0-9, '-', '_')", name);
			free(name);
			return -1;
		}
		m = realloc(z->modes, (z->nr_modes + 1) * sizeof(*m));
		if (!m) {
			free(name);
			return zy_fail(w, kl, sub, "out of memory");
		}
		z->modes = m;
		m = &z->modes[z->nr_modes++];
		memset(m, 0, sizeof(*m));
		m->name = name;
		if (zy_strings(w, fy_node_pair_value(p), kl, sub, &m->args))
			return -1;
	}
	return 0;
}

/*
 * An OCI image reference as podman takes it (NAME[:TAG][@DIGEST], NAME
 * with a registry and path), into @out (malloc'd). What it names is
 * checked on the host (zoneimage.c in czctl): loading reads only the file.
 */
static int read_image(struct walk *w, struct fy_node *v, int line,
		      const char *key, char **out)
{
	char *s = zy_text(w, v, line, key);

	if (!s)
		return -1;
	*out = s;
	if (!*s || s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789._-/:@")] || strchr("/:@.-", s[0]))
		return zy_fail(w, line, key, "'%s' is not an image name (NAME[:TAG], as podman takes it)",
			    s);
	return 0;
}

static int read_sched_image(struct walk *w, struct fy_node *v, int line,
			    const char *key, void *obj)
{
	struct cz_zone *z = obj;

	z->line_sched_image = line;
	return read_image(w, v, line, key, &z->sched_image);
}

static const struct field sched_fields[] = {
	{ "name", false, read_sched_name },
	{ "image", false, read_sched_image },
	{ "args", false, read_sched_args },
	{ "modes", false, read_modes },
};

/*
 * The scheduler an image holds, when the file does not name it: the
 * image's own name, controlzone/scx_netaware:0.1.0 holding scx_netaware
 * (scripts/build-images names them so). The host check then finds it in
 * the image.
 */
static int sched_from_image(struct walk *w, struct cz_zone *z, int line,
			    const char *key)
{
	const char *ref = z->sched_image, *slash = strrchr(ref, '/');
	const char *base = slash ? slash + 1 : ref;
	size_t n = strcspn(base, ":@");

	if (n <= 4 || strncmp(base, "scx_", 4) || asprintf(&z->sched, "%.*s", (int)n, base) < 0 ||
	    !zy_name_ok(z->sched + 4, 128)) {
		free(z->sched);
		z->sched = NULL;
		return zy_fail(w, line, key, "missing: the image '%s' is not named scx_NAME, so say which scheduler it holds",
			    ref);
	}
	z->line_sched = z->line_sched_image;
	return 0;
}

static int read_scheduler(struct walk *w, struct fy_node *v, int line,
			  const char *key, void *obj)
{
	struct cz_zone *z = obj;
	char sub[KEY_MAX];

	if (zy_walk_mapping(w, v, line, key, sched_fields,
			    ARRAY_LEN(sched_fields), obj))
		return -1;
	if (z->sched)
		return 0;
	snprintf(sub, sizeof(sub), "%s.name", key);
	if (!z->sched_image)
		return zy_fail(w, line, sub, "missing (a required key)");
	return sched_from_image(w, z, line, sub);
}

/* ---- services ---- */

static int read_svc_name(struct walk *w, struct fy_node *v, int line,
			 const char *key, void *obj)
{
	struct cz_zone_service *s = obj;

	s->name = zy_text(w, v, line, key);
	if (!s->name)
		return -1;
	if (!zy_name_ok(s->name, SVC_NAME_MAX))
		return zy_fail(w, line, key, "'%s' is not a service name (a-z, 0-9, '-', '_')",
			    s->name);
	return 0;
}

/* command: [ARGV...], or one string for sh -c. */
static int read_command(struct walk *w, struct fy_node *v, int line,
			const char *key, void *obj)
{
	struct cz_zone_service *s = obj;
	char *cmd, *sh, *c;

	if (v && fy_node_is_sequence(v)) {
		if (zy_strings(w, v, line, key, &s->argv))
			return -1;
		if (!s->argv.n)
			return zy_fail(w, line, key, "an empty command");
		return 0;
	}
	cmd = zy_text(w, v, line, key);
	if (!cmd)
		return -1;
	if (!*cmd) {
		free(cmd);
		return zy_fail(w, line, key, "an empty command");
	}
	sh = strdup("sh");
	c = strdup("-c");
	if (sh && c && !zy_strv_add(&s->argv, sh)) {
		sh = NULL;
		if (!zy_strv_add(&s->argv, c)) {
			c = NULL;
			if (!zy_strv_add(&s->argv, cmd))
				return 0;
		}
	}
	free(sh);
	free(c);
	free(cmd);
	return zy_fail(w, line, key, "out of memory");
}

static int read_env(struct walk *w, struct fy_node *v, int line,
		    const char *key, void *obj)
{
	struct cz_zone_service *s = obj;
	struct fy_node_pair *p;
	void *it = NULL;

	if (!v || !fy_node_is_mapping(v))
		return zy_fail(w, line, key, "expected a mapping of NAME: VALUE, got %s",
			    zy_kind_of(v));
	while ((p = fy_node_mapping_iterate(v, &it))) {
		int kl = zy_line_of(fy_node_pair_key(p));
		char *name = zy_text(w, fy_node_pair_key(p), kl, key), *val, *kv;
		char sub[KEY_MAX];

		if (!name)
			return -1;
		snprintf(sub, sizeof(sub), "%s.%s", key, name);
		if (!*name || strchr(name, '=') || name[strspn(name,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")]) {
			zy_fail(w, kl, sub, "not an environment variable name");
			free(name);
			return -1;
		}
		val = zy_text(w, fy_node_pair_value(p), kl, sub);
		if (!val || asprintf(&kv, "%s=%s", name, val) < 0 ||
		    zy_strv_add(&s->env, kv)) {
			free(name);
			free(val);
			return w->failed ? -1 : zy_fail(w, kl, sub, "out of memory");
		}
		free(name);
		free(val);
	}
	return 0;
}

/* "HOST:GUEST" or "ADDR:HOST:GUEST". */
static int parse_port(struct walk *w, const char *spec, int line,
		      const char *key, struct cz_zone_port *p)
{
	char buf[64], *guest, *host, *addr = NULL, err[128];
	struct in_addr ia;
	double h, g;

	if (strlen(spec) >= sizeof(buf))
		return zy_fail(w, line, key, "'%.20s...' is not HOST:GUEST or ADDR:HOST:GUEST", spec);
	strcpy(buf, spec);
	guest = strrchr(buf, ':');
	if (!guest)
		return zy_fail(w, line, key, "'%s' is not HOST:GUEST or ADDR:HOST:GUEST", spec);
	*guest++ = '\0';
	host = strrchr(buf, ':');
	if (host) {
		*host++ = '\0';
		addr = buf;
	} else {
		host = buf;
	}
	if (cz_parse_num(host, 1, MAX_PORT, true, &h, err, sizeof(err)) ||
	    cz_parse_num(guest, 1, MAX_PORT, true, &g, err, sizeof(err)) ||
	    strspn(host, "0123456789") != strlen(host) ||
	    strspn(guest, "0123456789") != strlen(guest))
		return zy_fail(w, line, key, "'%s': ports are numbers from 1 to %d", spec, MAX_PORT);
	if (addr && inet_pton(AF_INET, addr, &ia) != 1)
		return zy_fail(w, line, key, "'%s': '%s' is not an IPv4 address", spec, addr);
	snprintf(p->addr, sizeof(p->addr), "%s", addr ?: "127.0.0.1");
	p->host = h;
	p->guest = g;
	p->line = line;
	return 0;
}

static int port_item(struct walk *w, struct fy_node *item, int line,
		     const char *key, void *obj)
{
	struct cz_zone_service *s = obj;
	struct cz_zone_port *p;
	char *spec = zy_text(w, item, line, key);
	int ret;

	if (!spec)
		return -1;
	p = realloc(s->ports, (s->nr_ports + 1) * sizeof(*p));
	if (!p) {
		free(spec);
		return zy_fail(w, line, key, "out of memory");
	}
	s->ports = p;
	ret = parse_port(w, spec, line, key, &s->ports[s->nr_ports]);
	free(spec);
	if (ret)
		return -1;
	s->nr_ports++;
	return 0;
}

static int read_ports(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	return zy_each_item(w, v, line, key, "\"HOST:GUEST\" ports", port_item, obj);
}

static int read_restart(struct walk *w, struct fy_node *v, int line,
			const char *key, void *obj)
{
	struct cz_zone_service *s = obj;
	int i;

	if (zy_choice(w, v, line, key, cz_restart_names, "on-failure, always or no", &i))
		return -1;
	s->restart = i;
	return 0;
}

static int read_svc_image(struct walk *w, struct fy_node *v, int line,
			  const char *key, void *obj)
{
	struct cz_zone_service *s = obj;

	s->line_image = line;
	return read_image(w, v, line, key, &s->image);
}

static const struct field service_fields[] = {
	{ "name", true, read_svc_name },
	{ "image", false, read_svc_image },
	{ "command", true, read_command },
	{ "env", false, read_env },
	{ "ports", false, read_ports },
	{ "restart", false, read_restart },
	{ "probe", false, zy_read_probe },
};

static int service_item(struct walk *w, struct fy_node *item, int line,
			const char *key, void *obj)
{
	struct cz_zone *z = obj;
	struct cz_zone_service *s;

	s = realloc(z->services, (z->nr_services + 1) * sizeof(*s));
	if (!s)
		return zy_fail(w, line, key, "out of memory");
	z->services = s;
	s = &z->services[z->nr_services++];
	memset(s, 0, sizeof(*s));
	s->line = line;
	if (zy_walk_mapping(w, item, line, key, service_fields,
			 ARRAY_LEN(service_fields), s))
		return -1;
	for (unsigned int j = 0; j + 1 < z->nr_services; j++)
		if (!strcmp(z->services[j].name, s->name))
			return zy_fail(w, line, key, "a second service named '%s'",
				    s->name);
	return 0;
}

static int read_services(struct walk *w, struct fy_node *v, int line,
			 const char *key, void *obj)
{
	return zy_each_item(w, v, line, key, "services", service_item, obj);
}

/* ---- files ---- */

/* PATH, or SRC:GUESTPATH (absolute), as mkinitramfs's --add takes them. */
static int file_item(struct walk *w, struct fy_node *item, int line,
		     const char *key, void *obj)
{
	struct cz_zone *z = obj;
	struct cz_zone_file *f;
	char *spec = zy_text(w, item, line, key), *colon;

	if (!spec)
		return -1;
	f = realloc(z->files, (z->nr_files + 1) * sizeof(*f));
	if (!f) {
		free(spec);
		return zy_fail(w, line, key, "out of memory");
	}
	z->files = f;
	f = &z->files[z->nr_files++];
	memset(f, 0, sizeof(*f));
	f->line = line;
	f->src = spec;
	colon = strstr(spec, ":/");
	if (colon)
		*colon = '\0';
	if (spec[0] != '/')
		return zy_fail(w, line, key, "'%s' is not an absolute host path", spec);
	if (colon)
		f->dst = strdup(colon + 1);
	else if (asprintf(&f->dst, "/cz/extra/%s", strrchr(spec, '/') + 1) < 0)
		f->dst = NULL;
	if (!f->dst)
		return zy_fail(w, line, key, "out of memory");
	return 0;
}

static int read_files(struct walk *w, struct fy_node *v, int line,
		      const char *key, void *obj)
{
	return zy_each_item(w, v, line, key, "host paths", file_item, obj);
}

/*
 * What no single key shows: a host port forwarded twice; the rules' and
 * probes' references (cz_zone_auto.c).
 */
static int check_whole(struct walk *w)
{
	struct cz_zone *z = w->z;

	for (unsigned int i = 0; i < z->nr_services; i++) {
		for (unsigned int j = 0; j < z->services[i].nr_ports; j++) {
			const struct cz_zone_port *p = &z->services[i].ports[j];
			char key[KEY_MAX];

			snprintf(key, sizeof(key), "services[%u].ports[%u]", i, j);
			for (unsigned int a = 0; a <= i; a++) {
				unsigned int nb = a == i ? j : z->services[a].nr_ports;

				for (unsigned int b = 0; b < nb; b++)
					if (z->services[a].ports[b].host == p->host)
						return zy_fail(w, p->line, key,
							    "host port %u is forwarded twice",
							    p->host);
			}
		}
	}
	return zy_check_auto(w);
}

static const struct field zone_fields[] = {
	{ "name", true, read_name },
	{ "kernel", true, read_kernel },
	{ "cmdline", false, read_cmdline },
	{ "cpus", false, read_cpus },
	{ "memory", false, read_memory },
	{ "host_cpus", false, read_host_cpus },
	{ "accel", false, read_accel },
	{ "scheduler", false, read_scheduler },
	{ "services", false, read_services },
	{ "files", false, read_files },
	{ "auto", false, zy_read_auto },
};

/* ---- the file ---- */

/* libfyaml's first diagnostic, "FILE:LINE:COL: error: MSG", kept. */
struct diag_capture {
	char	line[512];
	bool	have;
};

static void on_diag(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
	struct diag_capture *c = user;
	size_t n = strcspn(buf, "\n");

	(void)diag;
	if (c->have || !len || n >= len + 1)
		return;
	snprintf(c->line, sizeof(c->line), "%.*s", (int)(n < len ? n : len), buf);
	c->have = strstr(c->line, ": error: ") != NULL;
}

/* "FILE:LINE:COL: error: MSG" as "FILE:LINE: MSG", our one-line form. */
static void yaml_error(const char *path, const struct diag_capture *c,
		       char *err, size_t errlen)
{
	const char *e = c->have ? strstr(c->line, ": error: ") : NULL;
	int line = 0, col = 0;
	size_t plen = strlen(path);

	if (e && !strncmp(c->line, path, plen) &&
	    sscanf(c->line + plen, ":%d:%d:", &line, &col) == 2)
		snprintf(err, errlen, "%s:%d: not valid YAML: %s", path, line,
			 e + strlen(": error: "));
	else
		snprintf(err, errlen, "%s: not valid YAML%s%s", path,
			 c->have ? ": " : "", c->have ? c->line : "");
}

int cz_zone_load(const char *path, struct cz_zone *z, char *err, size_t errlen)
{
	struct diag_capture cap = { .have = false };
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg pcfg = { .flags = FYPCF_COLLECT_DIAG };
	struct fy_document *doc = NULL;
	struct fy_diag *diag;
	struct walk w = { .z = z, .path = path, .err = err, .errlen = errlen };
	FILE *f;
	int ret = -1;

	memset(z, 0, sizeof(*z));
	z->path = strdup(path);
	z->cmdline = strdup("");
	z->cores = 1;
	z->threads = 1;
	z->memory_mib = CZ_ZONE_DEFAULT_MIB;
	if (!z->path || !z->cmdline) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	/* libfyaml's own message for a missing file names no errno. */
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = on_diag;
	dcfg.user = &cap;
	dcfg.level = FYET_ERROR;
	dcfg.colorize = false;
	dcfg.show_source = false;
	dcfg.show_position = true;
	dcfg.show_type = true;
	dcfg.show_module = false;
	diag = fy_diag_create(&dcfg);
	if (!diag) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	pcfg.diag = diag;
	doc = fy_document_build_from_file(&pcfg, path);
	if (!doc && cap.have) {
		yaml_error(path, &cap, err, errlen);
	} else if (!doc || !fy_document_root(doc)) {
		/* No document at all, or one without content: nothing said. */
		snprintf(err, errlen, "%s:1: zone: empty (a zone file needs at least name and kernel)",
			 path);
	} else if (!zy_walk_mapping(&w, fy_document_root(doc), 1, "", zone_fields,
				 ARRAY_LEN(zone_fields), z) && !check_whole(&w)) {
		ret = 0;
	}
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	return ret;
}

void cz_zone_free(struct cz_zone *z)
{
	zy_free_auto(z);
	free(z->path);
	free(z->kernel);
	free(z->kernel_image);
	free(z->kernel_config);
	free(z->cmdline);
	free(z->sched);
	free(z->sched_image);
	zy_strv_free(&z->sched_args);
	for (unsigned int i = 0; i < z->nr_modes; i++) {
		free(z->modes[i].name);
		zy_strv_free(&z->modes[i].args);
	}
	free(z->modes);
	for (unsigned int i = 0; i < z->nr_services; i++) {
		free(z->services[i].name);
		free(z->services[i].image);
		zy_strv_free(&z->services[i].argv);
		zy_strv_free(&z->services[i].env);
		free(z->services[i].ports);
	}
	free(z->services);
	for (unsigned int i = 0; i < z->nr_files; i++) {
		free(z->files[i].src);
		free(z->files[i].dst);
	}
	free(z->files);
	memset(z, 0, sizeof(*z));
}

/* ---- host checks ---- */

void cz_cpulist_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && off < len; c++) {
		int e = c;

		if (!CPU_ISSET(c, set))
			continue;
		while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, set))
			e++;
		off += snprintf(buf + off, len - off, "%s%d", off ? "," : "", c);
		if (e > c && off < len)
			off += snprintf(buf + off, len - off, "-%d", e);
		c = e;
	}
}

int cz_zone_check_cpus(const struct cz_zone *z, const cpu_set_t *online,
		       const cpu_set_t *taken, const char *taken_by,
		       char *err, size_t errlen)
{
	cpu_set_t bad;
	char list[256], have[256];

	if (!CPU_COUNT(&z->host_cpus))
		return 0;
	CPU_XOR(&bad, &z->host_cpus, online);
	CPU_AND(&bad, &bad, &z->host_cpus);
	if (CPU_COUNT(&bad)) {
		cz_cpulist_format(&bad, list, sizeof(list));
		cz_cpulist_format(online, have, sizeof(have));
		snprintf(err, errlen, "%s:%d: host_cpus: CPU %s is not online on this host (online: %s)",
			 z->path, z->line_host_cpus, list, have);
		return -1;
	}
	if (!taken)
		return 0;
	CPU_AND(&bad, &z->host_cpus, taken);
	if (CPU_COUNT(&bad)) {
		cz_cpulist_format(&bad, list, sizeof(list));
		snprintf(err, errlen, "%s:%d: host_cpus: CPU %s is already %s's",
			 z->path, z->line_host_cpus, list, taken_by ?: "another zone");
		return -1;
	}
	return 0;
}

int cz_zone_check_ports(const struct cz_zone *z, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < z->nr_services; i++) {
		const struct cz_zone_service *s = &z->services[i];

		for (unsigned int j = 0; j < s->nr_ports; j++) {
			const struct cz_zone_port *p = &s->ports[j];
			struct sockaddr_in sa = {
				.sin_family = AF_INET, .sin_port = htons(p->host),
			};
			int fd, one = 1, ret;

			inet_pton(AF_INET, p->addr, &sa.sin_addr);
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				snprintf(err, errlen, "%s: socket: %s", z->path, strerror(errno));
				return -1;
			}
			/* As qemu's listener will: TIME_WAIT does not count. */
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
			close(fd);
			if (ret) {
				snprintf(err, errlen, "%s:%d: services[%u].ports[%u]: %s:%u: %s",
					 z->path, p->line, i, j, p->addr, p->host,
					 errno == EADDRINUSE ? "the port is in use on the host" :
					 strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

int cz_zone_check_files(const struct cz_zone *z, char *err, size_t errlen)
{
	struct stat st;

	if (z->kernel_image && stat(z->kernel_image, &st)) {
		snprintf(err, errlen, "%s:%d: kernel.image: %s: %s", z->path,
			 z->line_kernel, z->kernel_image, strerror(errno));
		return -1;
	}
	if (z->kernel_config && stat(z->kernel_config, &st)) {
		snprintf(err, errlen, "%s:%d: kernel.config: %s: %s", z->path,
			 z->line_kernel, z->kernel_config, strerror(errno));
		return -1;
	}
	for (unsigned int i = 0; i < z->nr_files; i++) {
		if (stat(z->files[i].src, &st)) {
			snprintf(err, errlen, "%s:%d: files[%u]: %s: %s", z->path,
				 z->files[i].line, i, z->files[i].src, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * The release in a bzImage's header (the x86 boot protocol): "HdrS" at
 * 0x202, and at 0x20e the offset, less 0x200, of the kernel_version
 * string, whose first word is uname -r.
 */
static int bzimage_release(const char *path, char *out, size_t len)
{
	unsigned char hdr[0x210];
	char ver[256];
	unsigned int off;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr + 0x202, "HdrS", 4)) {
		close(fd);
		return -1;
	}
	off = (hdr[0x20e] | hdr[0x20f] << 8) + 0x200;
	n = pread(fd, ver, sizeof(ver) - 1, off);
	close(fd);
	if (n <= 0)
		return -1;
	ver[n] = '\0';
	ver[strcspn(ver, " ")] = '\0';
	if (!*ver || strlen(ver) >= len)
		return -1;
	snprintf(out, len, "%s", ver);
	return 0;
}

/* Whether config file @path sets @opt=y. */
static bool config_y(const char *path, const char *opt)
{
	char line[256], want[128];
	bool y = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	snprintf(want, sizeof(want), "%s=y\n", opt);
	while (!y && fgets(line, sizeof(line), f))
		y = !strcmp(line, want);
	fclose(f);
	return y;
}

int cz_zone_check_kernel(const struct cz_zone *z, char *release, size_t len,
			 char *err, size_t errlen)
{
	static const char *const need[] = {
		"CONFIG_SCHED_CLASS_EXT", "CONFIG_VIRTIO_CONSOLE", "CONFIG_BLK_DEV_INITRD",
	};
	bool ports = false;

	if (!z->kernel_image)
		return 0;
	if (bzimage_release(z->kernel_image, release, len)) {
		snprintf(err, errlen, "%s:%d: kernel.image: %s is not an x86 bzImage",
			 z->path, z->line_kernel, z->kernel_image);
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(need); i++) {
		if (config_y(z->kernel_config, need[i]))
			continue;
		snprintf(err, errlen, "%s:%d: kernel.config: %s does not set %s=y (a zone needs it)",
			 z->path, z->line_kernel, z->kernel_config, need[i]);
		return -1;
	}
	for (unsigned int i = 0; i < z->nr_services; i++)
		ports |= z->services[i].nr_ports > 0;
	if (ports && !config_y(z->kernel_config, "CONFIG_VIRTIO_NET")) {
		snprintf(err, errlen, "%s:%d: kernel.config: %s does not set CONFIG_VIRTIO_NET=y, and a zone of its own kernel has no modules for its forwarded ports",
			 z->path, z->line_kernel, z->kernel_config);
		return -1;
	}
	return 0;
}

