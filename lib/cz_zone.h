/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The zone file: one YAML file per Control Zone (vmconfigs/README.md has
 * every key), loaded into struct cz_zone.
 *
 * Key choices:
 * - libfyaml parses; this file checks the document against the zone
 *   schema (a table per mapping: key, required, how to read the value)
 *   and reports the first problem as one line, FILE:LINE: KEY: problem,
 *   KEY a path such as services[0].ports[1]. A file that loads is
 *   complete: every default is filled in.
 * - Loading reads nothing but the file. What depends on the host (its
 *   CPUs, other zones' CPUs, ports in use, files to carry, installed
 *   schedulers) is checked separately, with the same kind of line, so
 *   unit tests can check a file anywhere and `zone up` checks it where it
 *   will run.
 */
#ifndef __CZ_ZONE_H
#define __CZ_ZONE_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

enum {
	CZ_ZONE_NAME_MAX	= 32,		/* with its NUL */
	CZ_ZONE_MAX_VCPUS	= 64,
	CZ_ZONE_MEM_MIN_MIB	= 256,
	CZ_ZONE_MEM_MAX_MIB	= 64 * 1024,
	CZ_ZONE_DEFAULT_MIB	= 1024,
};

enum cz_accel { CZ_ACCEL_AUTO, CZ_ACCEL_KVM, CZ_ACCEL_TCG };
enum cz_restart { CZ_RESTART_ON_FAILURE, CZ_RESTART_ALWAYS, CZ_RESTART_NO };

/* Their names in zone files, by value. */
extern const char *const cz_accel_names[];
extern const char *const cz_restart_names[];

/* A list of strings, each malloc'd. */
struct cz_strv {
	char		**v;
	unsigned int	n;
};

struct cz_zone_port {
	char		addr[16];	/* host address, dotted IPv4 */
	unsigned int	host;
	unsigned int	guest;
	int		line;
};

/*
 * A service's probe, from the host through one of its forwarded ports:
 * a TCP connect, or (send set) a request whose reply must start with
 * expect (any reply when NULL), on one kept connection.
 */
struct cz_zone_probe {
	unsigned int	port;		/* host port; 0: no probe */
	char		addr[16];
	char		*send;
	char		*expect;
	double		interval_s;
	double		timeout_s;
	double		window_s;	/* p50/p99 over this much of the past */
	int		line;
};

struct cz_zone_service {
	char			*name;
	char			*image;	/* OCI image it runs from, or NULL */
	struct cz_strv		argv;	/* the command, or "sh", "-c", STRING */
	struct cz_strv		env;	/* "KEY=VALUE" */
	struct cz_zone_port	*ports;
	unsigned int		nr_ports;
	enum cz_restart		restart;
	struct cz_zone_probe	probe;
	int			line;
	int			line_image;
};

struct cz_zone_mode {
	char		*name;
	struct cz_strv	args;
};

/* What a switching rule switches to. */
struct cz_zone_target {
	char		*sched;		/* scx_NAME; NULL: the fair class */
	struct cz_strv	args;
	char		*mode;		/* the zone scheduler's mode, or NULL */
};

struct cz_cond;

/* auto.rules[]: cz_auto.h says what each part means. */
struct cz_zone_rule {
	char			*name;
	char			*when_text;
	char			*until_text;	/* NULL: not when */
	struct cz_cond		*when;
	struct cz_cond		*until;
	double			for_s;
	double			hold_s;
	struct cz_zone_target	target;
	int			line;
	int			line_when;
	int			line_until;
};

struct cz_zone_file {
	char	*src;		/* on the host */
	char	*dst;		/* in the zone: /cz/extra/BASENAME unless given */
	int	line;
};

struct cz_zone {
	char			*path;		/* the zone file */
	char			name[CZ_ZONE_NAME_MAX];
	/* kernel: a version prefix, or an image and its config */
	char			*kernel;
	char			*kernel_image;
	char			*kernel_config;
	char			*cmdline;	/* extra kernel arguments; "" */
	unsigned int		cores;
	unsigned int		threads;	/* per core; vCPUs = cores * threads */
	unsigned int		memory_mib;
	cpu_set_t		host_cpus;	/* empty: not pinned */
	enum cz_accel		accel;
	/* scheduler: name NULL when the zone runs the fair class */
	char			*sched;
	char			*sched_image;	/* OCI image it runs from, or NULL */
	struct cz_strv		sched_args;
	struct cz_zone_mode	*modes;
	unsigned int		nr_modes;
	struct cz_zone_service	*services;
	unsigned int		nr_services;
	struct cz_zone_file	*files;
	unsigned int		nr_files;
	/* auto: switching rules; none when nr_rules is 0 */
	struct cz_zone_rule	*rules;
	unsigned int		nr_rules;
	double			min_interval_s;
	/* where keys stand, for the host checks' messages */
	int			line_kernel;
	int			line_host_cpus;
	int			line_sched;
	int			line_sched_image;
};

/*
 * Load and check @path into @z (zeroed first). 0, or -1 with @err holding
 * one line: FILE:LINE: KEY: problem (FILE: problem when the file cannot
 * be read). @z needs cz_zone_free() either way.
 */
int cz_zone_load(const char *path, struct cz_zone *z, char *err, size_t errlen);
void cz_zone_free(struct cz_zone *z);

/*
 * The signals a rule may name (cz_auto.h): the zone's own, measured each
 * second by its agent, then sched.KEY and probe.SERVICE.{p50,p99,errors}.
 */
extern const char *const cz_zone_signals[];

/* Whether @name is a signal of @z: 0, or -1 with @why (static text). */
int cz_zone_signal_ok(const struct cz_zone *z, const char *name, char *why,
		      size_t len);

static inline unsigned int cz_zone_vcpus(const struct cz_zone *z)
{
	return z->cores * z->threads;
}

/*
 * Host checks. Each returns 0, or -1 with @err as cz_zone_load()'s.
 * - cpus: host_cpus are all online (@online), and none is in @taken
 *   (other running zones' host CPUs; may be NULL), which @taken_by names.
 * - ports: every forwarded host port can be bound now.
 * - files: every file to carry exists.
 */
int cz_zone_check_cpus(const struct cz_zone *z, const cpu_set_t *online,
		       const cpu_set_t *taken, const char *taken_by,
		       char *err, size_t errlen);
int cz_zone_check_ports(const struct cz_zone *z, char *err, size_t errlen);
int cz_zone_check_files(const struct cz_zone *z, char *err, size_t errlen);
/*
 * A zone's own kernel (kernel: {image, config}): the image is a bzImage,
 * whose release (uname -r) goes to @release; the config has sched_ext
 * and the virtio console built in, and virtio-net too when a service
 * forwards a port (such a zone carries no modules). 0, or -1 with @err.
 */
int cz_zone_check_kernel(const struct cz_zone *z, char *release, size_t len,
			 char *err, size_t errlen);

/* @set as a CPU list ("0-3,6") into @buf. */
void cz_cpulist_format(const cpu_set_t *set, char *buf, size_t len);

#endif /* __CZ_ZONE_H */
