/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl zone up, down, exec, switch, stats, set: running Control Zones.
 *
 * `zone up FILE|NAME` checks the file and the host, claims the zone's
 * state directory (zonestate.h), prepares the zone there (its kernel
 * through scripts/fetch-kernel, its initramfs through scripts/mkinitramfs
 * with the agent, the services' programs, the files and the images' files
 * (zoneimage.h), the accelerator
 * through scripts/vm-run's KVM probe, qemu's command line) and starts the
 * supervisor (supervisor.c), detached, then waits on a pipe for its word:
 * up, or why not, with nothing left behind.
 *
 * The scripts come from the source tree: $CZ_ROOT, or the tree czctl was
 * built in (found up from its own path).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "cli.h"
#include "cz_lines.h"
#include "cz_util.h"
#include "cz_zone.h"
#include "czctl.h"
#include "runstate.h"
#include "scheds.h"
#include "zoneimage.h"
#include "zonestate.h"

enum {
	READY_TIMEOUT_S	= 600,		/* boot, scheduler and services, under TCG */
	DOWN_TIMEOUT_S	= 90,
	OUT_MAX		= 64 * 1024,
};

/* The source tree whose scripts prepare zones; 0 with @out, or -1. */
static int find_root(char *out, size_t len)
{
	const char *env = getenv("CZ_ROOT");
	char self[PATH_MAX], probe[PATH_MAX + 32];
	ssize_t n;

	if (env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	for (int up = 0; up < 5; up++) {
		char *slash = strrchr(self, '/');

		if (!slash || slash == self)
			break;
		*slash = '\0';
		snprintf(probe, sizeof(probe), "%s/scripts/mkinitramfs", self);
		if (!access(probe, X_OK)) {
			snprintf(out, len, "%s", self);
			return 0;
		}
	}
	return -1;
}

/*
 * Run @argv, its stdout into @out (last line kept when @last), stderr
 * passed through. 0 when it exits 0.
 */
static int run_out(char *const argv[], char *out, size_t len, bool last)
{
	int status = run_capture_out(argv, out, len);

	if (last) {
		char *nl;

		while ((nl = strrchr(out, '\n')) && !nl[1])
			*nl = '\0';
		nl = strrchr(out, '\n');
		if (nl)
			memmove(out, nl + 1, strlen(nl + 1) + 1);
	}
	return status == 0 ? 0 : -1;
}

/* What the agent starts: the scheduler and the services. */
static struct json_object *agent_config(const struct cz_zone *z)
{
	struct json_object *o = json_object_new_object(), *svcs;
	char root[64];

	json_object_object_add(o, "name", json_object_new_string(z->name));
	if (z->sched) {
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "name", json_object_new_string(z->sched));
		json_object_object_add(s, "args", zs_strv_json(&z->sched_args));
		if (z->sched_image) {
			zone_image_guest(z, z->sched_image, root, sizeof(root));
			json_object_object_add(s, "root", json_object_new_string(root));
		}
		json_object_object_add(o, "scheduler", s);
	}
	svcs = json_object_new_array();
	for (unsigned int i = 0; i < z->nr_services; i++) {
		const struct cz_zone_service *sv = &z->services[i];
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "name", json_object_new_string(sv->name));
		if (sv->image) {
			zone_image_guest(z, sv->image, root, sizeof(root));
			json_object_object_add(s, "root", json_object_new_string(root));
		}
		json_object_object_add(s, "argv", zs_strv_json(&sv->argv));
		json_object_object_add(s, "env", zs_strv_json(&sv->env));
		json_object_object_add(s, "restart",
				       json_object_new_string(cz_restart_names[sv->restart]));
		json_object_array_add(svcs, s);
	}
	json_object_object_add(o, "services", svcs);
	return o;
}

static void add(struct json_object *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void add(struct json_object *a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_array_add(a, json_object_new_string(buf));
}

/* launch.json: qemu's argv and what the supervisor checks. */
static struct json_object *launch_config(const struct cz_zone *z,
					 const char *kdir, const char *accel)
{
	struct json_object *o = json_object_new_object(), *q, *ports;
	char dir[256], cpus[256], fwd[4096] = "";
	size_t off = 0;

	zone_file(z->name, NULL, dir, sizeof(dir));
	q = json_object_new_array();
	add(q, "qemu-system-x86_64");
	add(q, "-accel");
	add(q, "%s", accel);
	add(q, "-cpu");
	add(q, "%s", strcmp(accel, "kvm") ? "max" : "host");
	add(q, "-smp");
	add(q, "%u,sockets=1,cores=%u,threads=%u", cz_zone_vcpus(z), z->cores, z->threads);
	add(q, "-m");
	add(q, "%u", z->memory_mib);
	add(q, "-kernel");
	add(q, "%s/vmlinuz", kdir);
	add(q, "-initrd");
	add(q, "%s/initrd.cpio.gz", dir);
	add(q, "-append");
	add(q, "console=ttyS0 quiet panic=-1%s%s cz.zone=%s", *z->cmdline ? " " : "",
	    z->cmdline, z->name);
	add(q, "-nodefaults");
	add(q, "-display");
	add(q, "none");
	add(q, "-no-reboot");
	add(q, "-serial");
	add(q, "file:%s/console.log", dir);
	add(q, "-qmp");
	add(q, "unix:%s/qmp.sock,server=on,wait=off", dir);
	add(q, "-chardev");
	add(q, "socket,id=agent,path=%s/agent.sock,server=on,wait=off", dir);
	add(q, "-device");
	add(q, "virtio-serial-pci,id=vser");
	add(q, "-device");
	add(q, "virtserialport,bus=vser.0,chardev=agent,name=cz.agent");
	ports = json_object_new_array();
	for (unsigned int i = 0; i < z->nr_services; i++) {
		for (unsigned int j = 0; j < z->services[i].nr_ports; j++) {
			const struct cz_zone_port *p = &z->services[i].ports[j];
			struct json_object *po = json_object_new_object();

			off += snprintf(fwd + off, sizeof(fwd) - off,
					",hostfwd=tcp:%s:%u-:%u", p->addr, p->host, p->guest);
			json_object_object_add(po, "addr", json_object_new_string(p->addr));
			json_object_object_add(po, "host", json_object_new_int(p->host));
			json_object_object_add(po, "guest", json_object_new_int(p->guest));
			json_object_object_add(po, "service",
					       json_object_new_string(z->services[i].name));
			json_object_array_add(ports, po);
		}
	}
	add(q, "-netdev");
	add(q, "user,id=net0%s", fwd);
	add(q, "-device");
	add(q, "virtio-net-pci,netdev=net0");
	json_object_object_add(o, "qemu", q);
	cz_cpulist_format(&z->host_cpus, cpus, sizeof(cpus));
	json_object_object_add(o, "host_cpus", json_object_new_string(cpus));
	json_object_object_add(o, "vcpus", json_object_new_int(cz_zone_vcpus(z)));
	json_object_object_add(o, "sched", json_object_new_string(z->sched ?: ""));
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "ready_timeout_s", json_object_new_int(READY_TIMEOUT_S));
	return o;
}

/* A zone of that name running: said, exit 1; else 0. */
static int refuse_if_up(const char *name)
{
	pid_t pid = zone_supervisor_of(name);

	if (!pid)
		return 0;
	cz_say("zone %s is already up (supervisor pid %d); czctl zone down %s first",
	       name, (int)pid, name);
	return CZ_EXIT_FAIL;
}

/*
 * The state directory, claimed: created by us (the lock), or a stale or
 * dead one of that name removed first. 0, or an exit code (said).
 */
static int claim(const char *name)
{
	char dir[256], state[300];

	if (mkdir("/run/controlzone", 0755) && errno != EEXIST) {
		cz_say("/run/controlzone: %s", strerror(errno));
		return CZ_EXIT_FAIL;
	}
	if (mkdir(CZ_ZONES_DIR, 0755) && errno != EEXIST) {
		cz_say("%s: %s", CZ_ZONES_DIR, strerror(errno));
		return CZ_EXIT_FAIL;
	}
	zone_file(name, NULL, dir, sizeof(dir));
	zone_file(name, "state.json", state, sizeof(state));
	for (int tries = 0; tries < 2; tries++) {
		struct stat sb;
		int ret;

		if (!mkdir(dir, 0755))
			return 0;
		if (errno != EEXIST) {
			cz_say("%s: %s", dir, strerror(errno));
			return CZ_EXIT_FAIL;
		}
		ret = refuse_if_up(name);
		if (ret)
			return ret;
		/*
		 * No state yet in a young directory: another `zone up` is
		 * preparing it. Older, or its supervisor gone: stale, or a
		 * dead zone's; it goes.
		 */
		if (access(state, F_OK) && !stat(dir, &sb) &&
		    time(NULL) - sb.st_mtime < 120)
			break;
		zone_remove(name);
	}
	cz_say("zone %s is being started by another czctl", name);
	return CZ_EXIT_FAIL;
}

static int write_json(const char *name, const char *file, struct json_object *o)
{
	char path[512];
	int ret;

	zone_file(name, file, path, sizeof(path));
	ret = json_object_to_file_ext(path, o, JSON_C_TO_STRING_PLAIN);
	json_object_put(o);
	return ret;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			n = -1;
			break;
		}
	close(in);
	return close(out) || n < 0 ? -1 : 0;
}

/* The zone's initramfs in its state directory. 0, or -1 (said). */
static int build_initramfs(const struct cz_zone *z, const char *root,
			   const char *kdir)
{
	char script[PATH_MAX + 32], out[512], cfg[512], build[PATH_MAX + 8], err[1024];
	unsigned int nr = z->nr_services * 2 + z->nr_files + 1;
	char **argv = calloc(16 + 2 * nr, sizeof(*argv));
	char **frees = calloc(nr + 1, sizeof(*frees));
	struct zone_images images = { 0 };
	char buf[OUT_MAX];
	int k = 0, f = 0, ret = -1;

	if (!argv || !frees)
		goto out;
	/* The host check unmounted them; mounted again for the copy. */
	if (zone_images_mount(z, &images, err, sizeof(err))) {
		cz_say("zone %s: %s", z->name, err);
		goto out;
	}
	snprintf(script, sizeof(script), "%s/scripts/mkinitramfs", root);
	zone_file(z->name, "initrd.cpio.gz", out, sizeof(out));
	zone_file(z->name, "agent.json", cfg, sizeof(cfg));
	argv[k++] = script;
	argv[k++] = out;
	argv[k++] = "--kernel-dir";
	argv[k++] = (char *)kdir;
	argv[k++] = "--zone";
	argv[k++] = cfg;
	for (unsigned int i = 0; i < z->nr_services; i++) {
		if (z->services[i].image)
			continue;	/* the image's own */
		argv[k++] = "--bin";
		argv[k++] = z->services[i].argv.v[0];
	}
	for (unsigned int i = 0; i < images.n; i++) {
		char guest[64];

		zone_image_guest(z, images.img[i].ref, guest, sizeof(guest));
		argv[k++] = "--add";
		if (asprintf(&frees[f], "%s:%s", images.img[i].path, guest) < 0)
			frees[f] = NULL;
		argv[k++] = frees[f++];
	}
	for (unsigned int i = 0; i < z->nr_files; i++) {
		argv[k++] = "--add";
		if (asprintf(&frees[f], "%s:%s", z->files[i].src, z->files[i].dst) < 0)
			frees[f] = NULL;
		argv[k++] = frees[f++];
	}
	/* mkinitramfs takes the build from CZ_BUILD, or the tree's build/. */
	if (!getenv("CZ_BUILD")) {
		snprintf(build, sizeof(build), "%s/build", root);
		setenv("CZ_BUILD", build, 0);
	}
	ret = run_out(argv, buf, sizeof(buf), false);
	if (ret)
		cz_say("zone %s: building its initramfs failed (%s)", z->name, script);
	zone_images_unmount(&images);
out:
	for (int i = 0; i < f; i++)
		free(frees[i]);
	free(frees);
	free(argv);
	return ret;
}

/*
 * A kernel directory, as scripts/fetch-kernel makes them, for a zone's
 * own image and config: STATE/kernel with vmlinuz, config and release,
 * and no modules. 0, or -1 (said).
 */
static int own_kernel(const struct cz_zone *z, const char *release,
		      char *kdir, size_t len)
{
	char path[PATH_MAX + 16];
	FILE *f;

	zone_file(z->name, "kernel", kdir, len);
	if (mkdir(kdir, 0755) && errno != EEXIST)
		goto fail;
	snprintf(path, sizeof(path), "%s/vmlinuz", kdir);
	if (symlink(z->kernel_image, path))
		goto fail;
	snprintf(path, sizeof(path), "%s/config", kdir);
	if (copy_file(z->kernel_config, path))
		goto fail;
	snprintf(path, sizeof(path), "%s/release", kdir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", release) < 0 || fclose(f))
		goto fail;
	return 0;
fail:
	cz_say("zone %s: preparing its kernel in %s failed: %s", z->name, kdir, strerror(errno));
	return -1;
}

/* Start the supervisor detached and wait for its word. */
static int start_supervisor(const char *name)
{
	char self[PATH_MAX], num[16], *const *argv;
	struct cz_lines lb;
	char *msg = NULL, *line;
	double deadline = cz_now() + READY_TIMEOUT_S + 60;
	int fds[2], ok = 0;
	ssize_t n;
	pid_t pid;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || pipe2(fds, O_CLOEXEC)) {
		cz_say("zone %s: cannot start its supervisor: %s", name, strerror(errno));
		return CZ_EXIT_FAIL;
	}
	self[n] = '\0';
	argv = (char *const[]){ self, CZ_SUPERVISE, (char *)name, NULL };
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		cz_say("fork: %s", strerror(errno));
		return CZ_EXIT_FAIL;
	}
	if (!pid) {
		/* Detached: its own session, not our child for long. */
		int devnull = open("/dev/null", O_RDWR);

		setsid();
		if (fork())
			_exit(0);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		fcntl(fds[1], F_SETFD, 0);
		snprintf(num, sizeof(num), "%d", fds[1]);
		setenv("CZ_READY_FD", num, 1);
		execv(self, argv);
		_exit(127);
	}
	close(fds[1]);
	waitpid(pid, NULL, 0);
	cz_lines_init(&lb, 1024 * 1024);
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int left = (int)((deadline - cz_now()) * 1000), r;

		if (left <= 0 || poll(&p, 1, left) <= 0) {
			msg = strdup("no word from the zone's supervisor in time");
			break;
		}
		r = cz_lines_fill(&lb, fds[0]);
		if (r <= 0)
			break;
	}
	close(fds[0]);
	/* The whole message: "ok", or "error ..." over several lines. */
	if (lb.len) {
		lb.buf[lb.len < lb.cap ? lb.len : lb.cap - 1] = '\0';
		line = lb.buf;
		if (!strncmp(line, "ok", 2))
			ok = 1;
		else if (!msg)
			msg = strdup(!strncmp(line, "error ", 6) ? line + 6 : line);
	} else if (!msg) {
		char log[512];

		zone_file(name, "supervisor.log", log, sizeof(log));
		if (asprintf(&msg, "zone %s: the supervisor exited without a word (see %s)",
			     name, log) < 0)
			msg = NULL;
	}
	cz_lines_free(&lb);
	if (ok)
		return CZ_EXIT_OK;
	if (msg) {
		size_t l = strlen(msg);

		while (l && msg[l - 1] == '\n')
			msg[--l] = '\0';
	}
	cz_say("%s", msg ?: "zone up failed");
	free(msg);
	/* Whatever is left of it: gone. */
	pid = zone_supervisor_of(name);
	if (pid)
		kill(pid, SIGKILL);
	zone_remove(name);
	return CZ_EXIT_FAIL;
}

static int zone_up(int argc, char **argv)
{
	char path[PATH_MAX], err[2048], root[PATH_MAX], kdir[PATH_MAX];
	char accel[32] = "tcg", dst[512], script[PATH_MAX + 32], release[256] = "";
	struct cz_zone z;
	int ret;

	if (argc != 2)
		return usage_error("zone up takes one zone file or name");
	if (geteuid()) {
		cz_say("zone up must be run as root (the zone's state lives in %s)", CZ_ZONES_DIR);
		return CZ_EXIT_FAIL;
	}
	if (zone_find_file(argv[1], path, sizeof(path)))
		return CZ_EXIT_USAGE;
	if (cz_zone_load(path, &z, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		cz_zone_free(&z);
		return CZ_EXIT_USAGE;
	}
	/* Up already: its own ports and CPUs are no fault of the file. */
	ret = refuse_if_up(z.name);
	if (ret) {
		cz_zone_free(&z);
		return ret;
	}
	if (zone_check_host(&z, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		cz_zone_free(&z);
		return CZ_EXIT_USAGE;
	}
	if (cz_zone_check_kernel(&z, release, sizeof(release), err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		cz_zone_free(&z);
		return CZ_EXIT_USAGE;
	}
	if (find_root(root, sizeof(root))) {
		cz_say("cannot find the source tree's scripts/ (set CZ_ROOT)");
		cz_zone_free(&z);
		return CZ_EXIT_FAIL;
	}
	ret = claim(z.name);
	if (ret) {
		cz_zone_free(&z);
		return ret;
	}
	zone_file(z.name, "zone.yaml", dst, sizeof(dst));
	ret = CZ_EXIT_FAIL;
	if (copy_file(path, dst) || write_json(z.name, "agent.json", agent_config(&z))) {
		cz_say("zone %s: writing its state directory failed: %s", z.name, strerror(errno));
		goto fail;
	}
	snprintf(script, sizeof(script), "%s/scripts/fetch-kernel", root);
	if (z.kernel_image) {
		if (own_kernel(&z, release, kdir, sizeof(kdir)))
			goto fail;
	} else if (run_out((char *const[]){ script, z.kernel, NULL }, kdir, sizeof(kdir), true)) {
		cz_say("zone %s: cannot get kernel %s (scripts/fetch-kernel)", z.name, z.kernel);
		goto fail;
	}
	if (z.accel == CZ_ACCEL_KVM) {
		snprintf(accel, sizeof(accel), "kvm");
	} else if (z.accel == CZ_ACCEL_AUTO) {
		/* An own kernel: whether KVM works here, asked of the default one. */
		char *const probe[] = { script, "--probe-accel",
					z.kernel ? "--kernel" : NULL, z.kernel, NULL };

		snprintf(script, sizeof(script), "%s/scripts/vm-run", root);
		if (run_out(probe, accel, sizeof(accel), true) ||
		    (strcmp(accel, "kvm") && strcmp(accel, "tcg")))
			snprintf(accel, sizeof(accel), "tcg");
	}
	if (build_initramfs(&z, root, kdir))
		goto fail;
	if (write_json(z.name, "launch.json", launch_config(&z, kdir, accel))) {
		cz_say("zone %s: writing launch.json failed", z.name);
		goto fail;
	}
	ret = start_supervisor(z.name);
	if (!ret) {
		char cpus[256];

		cz_cpulist_format(&z.host_cpus, cpus, sizeof(cpus));
		printf("zone %s is up: %u vCPUs%s%s, %s, %s\n", z.name, cz_zone_vcpus(&z),
		       *cpus ? " on host CPUs " : "", cpus, accel,
		       z.sched ?: "the fair class");
		for (unsigned int i = 0; i < z.nr_services; i++)
			for (unsigned int j = 0; j < z.services[i].nr_ports; j++)
				printf("  %s: %s:%u -> zone port %u\n", z.services[i].name,
				       z.services[i].ports[j].addr, z.services[i].ports[j].host,
				       z.services[i].ports[j].guest);
	}
	cz_zone_free(&z);
	return ret;
fail:
	zone_remove(z.name);
	cz_zone_free(&z);
	return ret;
}

/* ---- down ---- */

static int zone_down(int argc, char **argv)
{
	bool force = argc == 3 && !strcmp(argv[1], "--force");
	const char *name = argv[argc - 1];
	struct json_object *st, *resp;
	char msg[512];
	pid_t sup, qemu;
	int ret;

	if (argc != 2 && !force)
		return usage_error("zone down takes [--force] NAME");
	st = zone_state_read(name);
	if (!st) {
		cz_say("no zone %s (nothing in %s)", name, CZ_ZONES_DIR);
		return CZ_EXIT_FAIL;
	}
	sup = zone_live_supervisor(st, name);
	qemu = zs_int(st, "qemu");
	json_object_put(st);
	if (sup && !force) {
		ret = zone_call(name, "down", NULL, DOWN_TIMEOUT_S, &resp, msg, sizeof(msg));
		json_object_put(resp);
		if (!ret)
			return CZ_EXIT_OK;
		cz_say("zone %s: %s; stopping it by force", name, msg);
	}
	/* Force, or the supervisor is gone: kill what is left. */
	if (sup)
		kill(sup, SIGKILL);
	if (qemu > 0 && !kill(qemu, 0)) {
		char exe[PATH_MAX], link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/%d/exe", (int)qemu);
		n = readlink(link, exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		if (strstr(exe, "qemu"))
			kill(qemu, SIGKILL);
	}
	for (int i = 0; i < 50 && sup && zone_supervisor_alive(sup, name); i++)
		cz_sleep(0.1);
	zone_remove(name);
	return CZ_EXIT_OK;
}

/* ---- exec, switch ---- */

static int zone_exec(int argc, char **argv)
{
	struct json_object *args, *a, *resp, *v;
	char msg[1024];
	int i = 2, ret, status;

	if (argc < 4 || strcmp(argv[2], "--"))
		return usage_error("zone exec takes NAME -- COMMAND [ARGS...]");
	args = json_object_new_object();
	a = json_object_new_array();
	for (i = 3; i < argc; i++)
		json_object_array_add(a, json_object_new_string(argv[i]));
	json_object_object_add(args, "argv", a);
	ret = zone_call(argv[1], "exec", args, 600 + 30, &resp, msg, sizeof(msg));
	if (ret) {
		cz_say("zone exec: %s", msg);
		return CZ_EXIT_FAIL;
	}
	if (json_object_object_get_ex(resp, "stdout", &v))
		fputs(json_object_get_string(v), stdout);
	if (json_object_object_get_ex(resp, "stderr", &v))
		fputs(json_object_get_string(v), stderr);
	status = zs_int(resp, "status");
	json_object_put(resp);
	return status;
}

/* The arguments of mode @mode in the zone's file; NULL (said) if none. */
static struct json_object *mode_args(const char *name, const char *mode, char **sched)
{
	char path[512], err[1024];
	struct json_object *a = NULL;
	struct cz_zone z;

	zone_file(name, "zone.yaml", path, sizeof(path));
	if (cz_zone_load(path, &z, err, sizeof(err))) {
		cz_say("zone %s: %s", name, err);
		cz_zone_free(&z);
		return NULL;
	}
	for (unsigned int i = 0; i < z.nr_modes && !a; i++) {
		if (strcmp(z.modes[i].name, mode))
			continue;
		a = zs_strv_json(&z.modes[i].args);
		*sched = z.sched ? strdup(z.sched) : NULL;
	}
	if (a && !*sched) {
		json_object_put(a);
		a = NULL;
		cz_say("zone %s names no scheduler for its modes", name);
	} else if (!a)
		cz_say("zone %s has no mode '%s'%s", name, mode,
		       z.nr_modes ? " (see czctl zone show)" : " (its file names none)");
	cz_zone_free(&z);
	return a;
}

static int zone_switch(int argc, char **argv)
{
	struct json_object *args = json_object_new_object(), *a, *resp, *sched;
	char msg[2048], *name = NULL;
	int ret;

	if (argc >= 4 && !strcmp(argv[2], "--mode")) {
		if (argc != 4)
			return usage_error("zone switch NAME --mode MODE takes nothing more");
		a = mode_args(argv[1], argv[3], &name);
		if (!a)
			return CZ_EXIT_USAGE;
	} else if (argc >= 3) {
		char sched_name[CZ_SCHED_NAME_MAX];
		int i = 3;

		if (cz_sched_name(argv[2], sched_name, sizeof(sched_name)))
			return usage_error("'%s' is not a scheduler name", argv[2]);
		name = strdup(sched_name);
		if (i < argc && strcmp(argv[i], "--"))
			return usage_error("the scheduler's arguments go after --");
		a = json_object_new_array();
		for (i++; i < argc; i++)
			json_object_array_add(a, json_object_new_string(argv[i]));
	} else {
		return usage_error("zone switch takes NAME SCHEDULER [-- ARGS] or NAME --mode MODE");
	}
	json_object_object_add(args, "op", json_object_new_string("switch"));
	json_object_object_add(args, "name", json_object_new_string(name));
	json_object_object_add(args, "args", a);
	ret = zone_call(argv[1], "sched", args, 600 + 30, &resp, msg, sizeof(msg));
	if (ret) {
		cz_say("zone switch: %s", msg);
		free(name);
		return CZ_EXIT_FAIL;
	}
	ret = zs_int(resp, "status");
	if (ret)
		fprintf(stderr, "%s", zs_str(resp, "output"));
	else if (json_object_object_get_ex(resp, "scheduler", &sched))
		printf("zone %s: %s (sched_ext %s)\n", argv[1], zs_str(sched, "ops"),
		       zs_str(sched, "state"));
	json_object_put(resp);
	free(name);
	return ret;
}

/* ---- stats and set: the host-side stats socket ---- */

static int with_socket(int argc, char **argv, int (*cmd)(int, char **))
{
	char sock[512], **av;
	int ret;

	if (argc < 2 || argv[1][0] == '-')
		return usage_error("zone %s takes NAME first", argv[0]);
	zone_file(argv[1], "stats", sock, sizeof(sock));
	if (access(sock, F_OK)) {
		cz_say("zone %s is not running (no %s)", argv[1], sock);
		return CZ_EXIT_FAIL;
	}
	/* argv: CMD NAME ARGS... -> CMD --socket PATH ARGS... */
	av = calloc(argc + 3, sizeof(*av));
	if (!av)
		return CZ_EXIT_FAIL;
	av[0] = argv[0];
	av[1] = "--socket";
	av[2] = sock;
	memcpy(av + 3, argv + 2, (argc - 2) * sizeof(*av));
	optind = 0;
	ret = cmd(argc + 1, av);
	free(av);
	return ret;
}

int cmd_zone_run(int argc, char **argv)
{
	const char *sub = argv[0];

	if (!strcmp(sub, "up"))
		return zone_up(argc, argv);
	if (!strcmp(sub, "down"))
		return zone_down(argc, argv);
	if (!strcmp(sub, "exec"))
		return zone_exec(argc, argv);
	if (!strcmp(sub, "switch"))
		return zone_switch(argc, argv);
	if (!strcmp(sub, "stats"))
		return with_socket(argc, argv, cmd_stats);
	return with_socket(argc, argv, cmd_set);
}
