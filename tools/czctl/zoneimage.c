/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A zone's images (zoneimage.h): mounted on the host with podman, checked,
 * unmounted.
 *
 * Key choices:
 * - `podman image mount` rather than `podman export`: no container is
 *   created, nothing is copied twice (mkinitramfs copies from the mount),
 *   and an image that is not here already is an error, never a pull.
 * - Each image mounted is unmounted before returning an error, and by
 *   zone_images_unmount() after use: `zone check` and `zone up` leave
 *   podman's mount counts as they found them.
 * - podman is found on $PATH only when a zone names an image: a host
 *   without it runs every other zone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "scheds.h"
#include "zoneimage.h"

/* The @i-th image reference of @z, in file order, repeats included. */
static const char *nth_ref(const struct cz_zone *z, unsigned int i, int *line,
			   char *key, size_t len)
{
	if (i == 0) {
		snprintf(key, len, "scheduler.image");
		*line = z->line_sched_image;
		return z->sched_image;
	}
	snprintf(key, len, "services[%u].image", i - 1);
	*line = z->services[i - 1].line_image;
	return z->services[i - 1].image;
}

void zone_image_guest(const struct cz_zone *z, const char *ref, char *out, size_t len)
{
	unsigned int slot = 0;
	char key[64];
	int line;

	for (unsigned int i = 0; i <= z->nr_services; i++) {
		const char *r = nth_ref(z, i, &line, key, sizeof(key));
		bool first = r;

		for (unsigned int j = 0; r && j < i; j++) {
			const char *q = nth_ref(z, j, &line, key, sizeof(key));

			first = first && !(q && !strcmp(q, r));
		}
		if (!first)
			continue;
		if (!strcmp(r, ref))
			break;
		slot++;
	}
	snprintf(out, len, "/cz/images/%u", slot);
}

/* podman on $PATH into @out; 0, or -1. */
static int find_podman(char *out, size_t len)
{
	char *path = strdup(getenv("PATH") ?: "/usr/bin:/bin"), *save = NULL;
	int ret = -1;

	for (char *d = path ? strtok_r(path, ":", &save) : NULL; d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/podman", d);
		if (d[0] == '/' && is_executable(out)) {
			ret = 0;
			break;
		}
	}
	free(path);
	return ret;
}

void zone_images_unmount(struct zone_images *m)
{
	char podman[PATH_MAX], out[256];

	if (m->n && !find_podman(podman, sizeof(podman)))
		for (unsigned int i = 0; i < m->n; i++)
			run_capture((char *const[]){ podman, "image", "unmount",
						     (char *)m->img[i].ref, NULL },
				    out, sizeof(out));
	free(m->img);
	m->img = NULL;
	m->n = 0;
}

/* Whether @root holds @prog: a path in it, or a name in its bin dirs. */
static bool holds(const char *root, const char *prog)
{
	char path[PATH_MAX * 2];

	if (strchr(prog, '/')) {
		snprintf(path, sizeof(path), "%s%s%s", root, prog[0] == '/' ? "" : "/", prog);
		return is_executable(path);
	}
	return !find_in_root(root, prog, path, sizeof(path));
}

int zone_images_mount(const struct cz_zone *z, struct zone_images *m,
		      char *err, size_t errlen)
{
	char podman[PATH_MAX], out[PATH_MAX + 256], key[64];
	unsigned int total = z->nr_services + 1;
	int line;

	memset(m, 0, sizeof(*m));
	for (unsigned int i = 0; i < total; i++) {
		const char *ref = nth_ref(z, i, &line, key, sizeof(key));
		const char *prog = i ? z->services[i - 1].argv.v[0] : z->sched;
		const char *root = NULL;
		int status;

		if (!ref)
			continue;
		if (!m->img) {
			m->img = calloc(total, sizeof(*m->img));
			if (!m->img) {
				snprintf(err, errlen, "%s: out of memory", z->path);
				return -1;
			}
			if (find_podman(podman, sizeof(podman))) {
				snprintf(err, errlen, "%s:%d: %s: podman is not installed (it gives a zone an image's files)",
					 z->path, line, key);
				goto fail;
			}
		}
		for (unsigned int j = 0; j < m->n && !root; j++)
			if (!strcmp(m->img[j].ref, ref))
				root = m->img[j].path;
		if (!root) {
			char *last;

			/* Its warnings too, so that a failure is our one line. */
			status = run_capture((char *const[]){ podman, "image", "mount",
							      (char *)ref, NULL },
					     out, sizeof(out));
			while (*out && out[strlen(out) - 1] == '\n')
				out[strlen(out) - 1] = '\0';
			last = strrchr(out, '\n');
			last = last ? last + 1 : out;
			if (status || last[0] != '/') {
				snprintf(err, errlen, "%s:%d: %s: no image '%s' on this host (podman images; scripts/build-images builds the schedulers')",
					 z->path, line, key, ref);
				goto fail;
			}
			m->img[m->n].ref = ref;
			snprintf(m->img[m->n].path, sizeof(m->img[m->n].path), "%s", last);
			root = m->img[m->n++].path;
		}
		if (!holds(root, prog)) {
			snprintf(err, errlen, "%s:%d: %s: image '%s' has no %s%s",
				 z->path, line, key, ref, prog,
				 strchr(prog, '/') ? "" : " in /usr/sbin, /usr/bin, /sbin or /bin");
			goto fail;
		}
	}
	return 0;
fail:
	zone_images_unmount(m);
	return -1;
}
