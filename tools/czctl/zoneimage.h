/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A zone's scheduler or services from OCI images (scheduler.image,
 * services[].image): the images' files go into the zone, each image under
 * its own directory, and what comes from an image runs chrooted there
 * (czctl start --root, cz-agent). No podman inside the zone: on the host,
 * `podman image mount` gives the files, which the zone's initramfs copies.
 */
#ifndef __CZCTL_ZONEIMAGE_H
#define __CZCTL_ZONEIMAGE_H

#include <limits.h>
#include <stddef.h>
#include "cz_zone.h"

/* The zone's images, each once, mounted on the host. */
struct zone_images {
	unsigned int	n;
	struct {
		const char	*ref;		/* as the zone file says it */
		char		path[PATH_MAX];	/* its files, on the host */
	} *img;
};

/*
 * Where image @ref's files are in the zone (/cz/images/N, N its order in
 * the file: the scheduler's first, then the services'), into @out.
 */
void zone_image_guest(const struct cz_zone *z, const char *ref, char *out, size_t len);

/*
 * Mount every image of @z (none: 0 at once) and check that each holds
 * what the zone runs from it. 0 with @m to pass to zone_images_unmount(),
 * or -1 with @err, FILE:LINE: KEY: problem, and nothing left mounted.
 */
int zone_images_mount(const struct cz_zone *z, struct zone_images *m,
		      char *err, size_t errlen);
void zone_images_unmount(struct zone_images *m);

#endif /* __CZCTL_ZONEIMAGE_H */
