/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Zone files (lib/cz_zone.c): every example in vmconfigs/ loads; a good
 * file gives what it says, defaults filled in; each bad file is refused
 * with its exact FILE:LINE: KEY: problem line; the host checks (CPUs
 * online and not another zone's, ports free, files present, a zone's own
 * kernel: a bzImage's release, the config options a zone needs) say the
 * same kind of line.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "cz_zone.h"

#ifndef CZ_VMCONFIGS
#error "CZ_VMCONFIGS: the source tree's vmconfigs/ (tests/unit/meson.build)"
#endif

static char dir[] = "/tmp/cz-zone-test.XXXXXX";
static char path[sizeof(dir) + 16];

static void setup(void)
{
	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/z.yaml", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(zone, .init = setup, .fini = teardown);

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	fputs(text, f);
	fclose(f);
}

/* @text loads; @z filled (free it). */
static void load_ok(const char *text, struct cz_zone *z)
{
	char err[1024] = "";

	write_file(text);
	cr_assert_eq(cz_zone_load(path, z, err, sizeof(err)), 0, "refused: %s", err);
}

/* @text is refused with exactly "FILE:" @want. */
static void load_bad(const char *text, const char *want)
{
	char err[1024] = "", full[1024];
	struct cz_zone z;

	write_file(text);
	snprintf(full, sizeof(full), "%s:%s", path, want);
	cr_assert_eq(cz_zone_load(path, &z, err, sizeof(err)), -1, "accepted:\n%s", text);
	cr_assert_str_eq(err, full);
	cz_zone_free(&z);
}

#define HEAD "name: a\nkernel: 7.3\n"

Test(zone, examples_load)
{
	DIR *d = opendir(CZ_VMCONFIGS);
	struct dirent *e;
	int n = 0;

	cr_assert(d);
	while ((e = readdir(d))) {
		char file[512], err[1024] = "";
		struct cz_zone z;
		size_t len = strlen(e->d_name);

		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", CZ_VMCONFIGS, e->d_name);
		cr_expect_eq(cz_zone_load(file, &z, err, sizeof(err)), 0, "%s", err);
		/* The name is the file's, so that NAME finds it. */
		cr_expect_eq(strncmp(e->d_name, z.name, len - 5), 0, "%s: name %s",
			     e->d_name, z.name);
		cz_zone_free(&z);
		n++;
	}
	closedir(d);
	cr_assert_geq(n, 2, "only %d examples in %s", n, CZ_VMCONFIGS);
}

Test(zone, defaults)
{
	struct cz_zone z;

	load_ok(HEAD, &z);
	cr_assert_str_eq(z.name, "a");
	cr_assert_str_eq(z.kernel, "7.3");
	cr_assert_str_eq(z.cmdline, "");
	cr_assert_eq(cz_zone_vcpus(&z), 1);
	cr_assert_eq(z.memory_mib, CZ_ZONE_DEFAULT_MIB);
	cr_assert_eq(CPU_COUNT(&z.host_cpus), 0);
	cr_assert_eq(z.accel, CZ_ACCEL_AUTO);
	cr_assert_null(z.sched);
	cr_assert_eq(z.nr_services, 0);
	cz_zone_free(&z);
}

Test(zone, everything)
{
	struct cz_zone z;
	char cpus[64];

	load_ok("name: web-1\n"
		"kernel: {image: /boot/vmlinuz, config: /boot/config}\n"
		"cmdline: preempt=full\n"
		"cpus: {cores: 2, threads: 2}\n"
		"memory: 2G\n"
		"host_cpus: 0-1,3\n"
		"accel: tcg\n"
		"scheduler:\n"
		"  name: central\n"
		"  args: [--slice-us, 5000]\n"
		"  modes:\n"
		"    latency: [--slice-us, \"1000\"]\n"
		"    batch: []\n"
		"services:\n"
		"  - name: redis\n"
		"    command: [redis-server, --port, \"6379\"]\n"
		"    env: {A: b, LONG_NAME: 'x y'}\n"
		"    ports: [\"6380:6379\", \"0.0.0.0:8080:80\"]\n"
		"    restart: always\n"
		"  - name: hog\n"
		"    command: while :; do :; done\n"
		"files: [/etc/hostname, \"/etc/hosts:/etc/hosts\"]\n", &z);
	cr_assert_str_eq(z.name, "web-1");
	cr_assert_null(z.kernel);
	cr_assert_str_eq(z.kernel_image, "/boot/vmlinuz");
	cr_assert_str_eq(z.kernel_config, "/boot/config");
	cr_assert_str_eq(z.cmdline, "preempt=full");
	cr_assert_eq(z.cores, 2);
	cr_assert_eq(z.threads, 2);
	cr_assert_eq(z.memory_mib, 2048);
	cz_cpulist_format(&z.host_cpus, cpus, sizeof(cpus));
	cr_assert_str_eq(cpus, "0-1,3");
	cr_assert_eq(z.accel, CZ_ACCEL_TCG);
	cr_assert_str_eq(z.sched, "scx_central");
	cr_assert_eq(z.sched_args.n, 2);
	cr_assert_str_eq(z.sched_args.v[1], "5000");
	cr_assert_eq(z.nr_modes, 2);
	cr_assert_str_eq(z.modes[0].name, "latency");
	cr_assert_str_eq(z.modes[0].args.v[1], "1000");
	cr_assert_eq(z.modes[1].args.n, 0);
	cr_assert_eq(z.nr_services, 2);
	cr_assert_str_eq(z.services[0].argv.v[0], "redis-server");
	cr_assert_eq(z.services[0].env.n, 2);
	cr_assert_str_eq(z.services[0].env.v[1], "LONG_NAME=x y");
	cr_assert_eq(z.services[0].nr_ports, 2);
	cr_assert_str_eq(z.services[0].ports[0].addr, "127.0.0.1");
	cr_assert_eq(z.services[0].ports[0].host, 6380);
	cr_assert_eq(z.services[0].ports[0].guest, 6379);
	cr_assert_str_eq(z.services[0].ports[1].addr, "0.0.0.0");
	cr_assert_eq(z.services[0].restart, CZ_RESTART_ALWAYS);
	cr_assert_eq(z.services[1].restart, CZ_RESTART_ON_FAILURE);
	cr_assert_eq(z.services[1].argv.n, 3);
	cr_assert_str_eq(z.services[1].argv.v[0], "sh");
	cr_assert_str_eq(z.services[1].argv.v[2], "while :; do :; done");
	cr_assert_eq(z.nr_files, 2);
	cr_assert_str_eq(z.files[0].dst, "/cz/extra/hostname");
	cr_assert_str_eq(z.files[1].src, "/etc/hosts");
	cr_assert_str_eq(z.files[1].dst, "/etc/hosts");
	cz_zone_free(&z);
}

/* A scheduler or a service from an image: its name from the image's. */
Test(zone, images)
{
	struct cz_zone z;

	load_ok(HEAD "scheduler: {image: localhost/controlzone/scx_netaware:0.1.0}\n"
		"services:\n  - name: r\n    image: app@sha256:ab\n    command: [r]\n", &z);
	cr_assert_str_eq(z.sched, "scx_netaware");
	cr_assert_str_eq(z.sched_image, "localhost/controlzone/scx_netaware:0.1.0");
	cr_assert_eq(z.line_sched, 3);
	cr_assert_str_eq(z.services[0].image, "app@sha256:ab");
	cr_assert_eq(z.services[0].line_image, 6);
	cz_zone_free(&z);
	load_ok(HEAD "scheduler: {name: central, image: mine:1}\n", &z);
	cr_assert_str_eq(z.sched, "scx_central");
	cz_zone_free(&z);
	load_ok(HEAD "scheduler: {name: central}\n", &z);
	cr_assert_null(z.sched_image);
	cz_zone_free(&z);
}

Test(zone, cpus_and_memory_forms)
{
	struct cz_zone z;

	load_ok(HEAD "cpus: 3\nmemory: 512\n", &z);
	cr_assert_eq(z.cores, 3);
	cr_assert_eq(z.threads, 1);
	cr_assert_eq(z.memory_mib, 512);
	cz_zone_free(&z);
	load_ok(HEAD "memory: 768M\n", &z);
	cr_assert_eq(z.memory_mib, 768);
	cz_zone_free(&z);
}

Test(zone, bad_files)
{
	load_bad("", "1: zone: empty (a zone file needs at least name and kernel)");
	load_bad("just words\n", "1: zone: expected a mapping of keys (name, kernel, cmdline, cpus, memory, host_cpus, accel, scheduler, services, files, auto), got a scalar");
	load_bad("name: a\n", "1: kernel: missing (a required key)");
	load_bad("kernel: 7.3\n", "1: name: missing (a required key)");
	load_bad(HEAD "colour: red\n",
		 "3: colour: unknown key (known: name, kernel, cmdline, cpus, memory, host_cpus, accel, scheduler, services, files, auto)");
	load_bad("name: Web\nkernel: 7.3\n",
		 "1: name: 'Web' is not a zone name (1 to 31 of a-z, 0-9, '-', '_', starting with a letter or digit)");
	load_bad("name: a\nkernel: seven\n",
		 "2: kernel: 'seven' is not a kernel version such as 7.3 or 7.3.4 (or give {image: PATH, config: PATH})");
	load_bad("name: a\nkernel: {image: vmlinuz, config: /c}\n",
		 "2: kernel.image: 'vmlinuz' is not an absolute path");
	load_bad("name: a\nkernel: {image: /v}\n", "2: kernel.config: missing (a required key)");
	load_bad("name: a\nkernel:\n", "2: kernel: a value is required");
	load_bad(HEAD "cpus: many\n", "3: cpus: 'many' is not an integer number");
	load_bad(HEAD "cpus: {cores: 40, threads: 2}\n",
		 "3: cpus: 40 cores x 2 threads is more than 64 vCPUs");
	load_bad(HEAD "cpus: [2]\n", "3: cpus: expected a value, got a list");
	load_bad(HEAD "memory: 64M\n",
		 "3: memory: 64 MiB is outside [256, 65536] MiB (a zone needs room for its initramfs)");
	load_bad(HEAD "memory: 1T\n", "3: memory: not a size such as 1024, 1024M or 1G");
	load_bad(HEAD "host_cpus: 3-1\n", "3: host_cpus: '3-1' is not a CPU list such as 0-1 or 2,3");
	load_bad(HEAD "accel: hvf\n", "3: accel: 'hvf' is not auto, kvm or tcg");
	load_bad(HEAD "scheduler: scx_central\n",
		 "3: scheduler: expected a mapping of keys (name, image, args, modes), got a scalar");
	load_bad(HEAD "scheduler: {image: ':x'}\n",
		 "3: scheduler.image: ':x' is not an image name (NAME[:TAG], as podman takes it)");
	load_bad(HEAD "scheduler: {image: 'a b'}\n",
		 "3: scheduler.image: 'a b' is not an image name (NAME[:TAG], as podman takes it)");
	load_bad(HEAD "scheduler: {image: redis:7}\n",
		 "3: scheduler.name: missing: the image 'redis:7' is not named scx_NAME, so say which scheduler it holds");
	load_bad(HEAD "services:\n  - name: r\n    image: ''\n    command: x\n",
		 "5: services[0].image: '' is not an image name (NAME[:TAG], as podman takes it)");
	load_bad(HEAD "scheduler: {args: [-v]}\n", "3: scheduler.name: missing (a required key)");
	load_bad(HEAD "scheduler: {name: scx_Big}\n",
		 "3: scheduler.name: 'scx_Big' is not a scheduler name (scx_NAME or NAME: a-z, 0-9, '-', '_')");
	load_bad(HEAD "scheduler: {name: scx_central, args: --slice-us}\n",
		 "3: scheduler.args: expected a list, got a scalar");
	load_bad(HEAD "scheduler:\n  name: central\n  modes: {fast: 1}\n",
		 "5: scheduler.modes.fast: expected a list, got a scalar");
	load_bad(HEAD "services: {name: x}\n", "3: services: expected a list of services, got a mapping");
	load_bad(HEAD "services:\n  - name: r\n", "4: services[0].command: missing (a required key)");
	load_bad(HEAD "services:\n  - name: r\n    command: []\n",
		 "5: services[0].command: an empty command");
	load_bad(HEAD "services:\n  - name: r\n    command: x\n  - name: r\n    command: y\n",
		 "6: services[1]: a second service named 'r'");
	load_bad(HEAD "services:\n  - name: r\n    command: x\n    ports: [6379]\n",
		 "6: services[0].ports[0]: '6379' is not HOST:GUEST or ADDR:HOST:GUEST");
	load_bad(HEAD "services:\n  - name: r\n    command: x\n    ports: [\"70000:1\"]\n",
		 "6: services[0].ports[0]: '70000:1': ports are numbers from 1 to 65535");
	load_bad(HEAD "services:\n  - name: r\n    command: x\n    ports: [\"localhost:80:80\"]\n",
		 "6: services[0].ports[0]: 'localhost:80:80': 'localhost' is not an IPv4 address");
	load_bad(HEAD "services:\n  - name: r\n    command: x\n    ports: [\"80:80\", \"80:81\"]\n",
		 "6: services[0].ports[1]: host port 80 is forwarded twice");
	load_bad(HEAD "services:\n  - name: r\n    command: x\n    restart: sometimes\n",
		 "6: services[0].restart: 'sometimes' is not on-failure, always or no");
	load_bad(HEAD "services:\n  - name: r\n    command: x\n    env: {1-X: y}\n",
		 "6: services[0].env.1-X: not an environment variable name");
	load_bad(HEAD "files: [etc/hosts]\n", "3: files[0]: 'etc/hosts' is not an absolute host path");
	load_bad(HEAD "name: b\n", "3: not valid YAML: duplicate key");
	load_bad(HEAD "cpus: [1, 2\n", "4: not valid YAML: flow sequence without a closing bracket");
}

Test(zone, unreadable_file)
{
	char err[1024];
	struct cz_zone z;

	cr_assert_eq(cz_zone_load("/nonexistent/z.yaml", &z, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "/nonexistent/z.yaml: cannot read: No such file or directory");
	cz_zone_free(&z);
}

Test(zone, host_cpus_checks)
{
	char err[1024], want[1024];
	cpu_set_t online, taken;
	struct cz_zone z;

	CPU_ZERO(&online);
	CPU_SET(0, &online);
	CPU_SET(1, &online);
	CPU_ZERO(&taken);
	CPU_SET(1, &taken);

	load_ok(HEAD "host_cpus: 0\n", &z);
	cr_assert_eq(cz_zone_check_cpus(&z, &online, &taken, "zone b", err, sizeof(err)), 0);
	cz_zone_free(&z);

	load_ok(HEAD "host_cpus: 1\n", &z);
	cr_assert_eq(cz_zone_check_cpus(&z, &online, &taken, "zone b", err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: host_cpus: CPU 1 is already zone b's", path);
	cr_assert_str_eq(err, want);
	cz_zone_free(&z);

	load_ok(HEAD "host_cpus: 0-3\n", &z);
	cr_assert_eq(cz_zone_check_cpus(&z, &online, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: host_cpus: CPU 2-3 is not online on this host (online: 0-1)", path);
	cr_assert_str_eq(err, want);
	cz_zone_free(&z);

	/* Not pinned: nothing to check. */
	load_ok(HEAD, &z);
	cr_assert_eq(cz_zone_check_cpus(&z, &online, &online, "x", err, sizeof(err)), 0);
	cz_zone_free(&z);
}

Test(zone, port_in_use)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	char text[256], err[1024], want[1024];
	struct cz_zone z;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(text, sizeof(text), HEAD "services:\n  - name: r\n    command: x\n"
		 "    ports: [\"%u:1\"]\n", ntohs(sa.sin_port));
	load_ok(text, &z);
	cr_assert_eq(cz_zone_check_ports(&z, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:6: services[0].ports[0]: 127.0.0.1:%u: the port is in use on the host",
		 path, ntohs(sa.sin_port));
	cr_assert_str_eq(err, want);
	close(fd);
	/* Free again once the listener is gone. */
	cr_assert_eq(cz_zone_check_ports(&z, err, sizeof(err)), 0, "%s", err);
	cz_zone_free(&z);
}

Test(zone, files_present)
{
	char err[1024], want[1024];
	struct cz_zone z;

	load_ok(HEAD "files: [/etc/hostname]\n", &z);
	cr_assert_eq(cz_zone_check_files(&z, err, sizeof(err)), 0, "%s", err);
	cz_zone_free(&z);
	load_ok(HEAD "files:\n  - /etc/hostname\n  - /nonexistent/x\n", &z);
	cr_assert_eq(cz_zone_check_files(&z, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:5: files[1]: /nonexistent/x: No such file or directory", path);
	cr_assert_str_eq(err, want);
	cz_zone_free(&z);
}

/* A file with a bzImage header naming @version, and a config. */
static void fake_kernel(const char *image, const char *config, const char *version,
			const char *opts)
{
	unsigned char hdr[0x400] = { 0 };
	FILE *f = fopen(image, "w");

	cr_assert(f);
	memcpy(hdr + 0x202, "HdrS", 4);
	hdr[0x20e] = 0x100 & 0xff;	/* the string at 0x100 + 0x200 */
	hdr[0x20f] = 0x100 >> 8;
	snprintf((char *)hdr + 0x300, 0x100, "%s (builder@host) #1 SMP", version);
	fwrite(hdr, 1, sizeof(hdr), f);
	fclose(f);
	f = fopen(config, "w");
	cr_assert(f);
	fputs(opts, f);
	fclose(f);
}

Test(zone, own_kernel)
{
	char image[64], config[64], text[512], rel[64], err[1024], want[1024];
	struct cz_zone z;

	snprintf(image, sizeof(image), "%s/bzImage", dir);
	snprintf(config, sizeof(config), "%s/config", dir);
	snprintf(text, sizeof(text), "name: k\nkernel: {image: %s, config: %s}\n"
		 "services: [{name: r, command: x, ports: [\"8080:80\"]}]\n", image, config);

	fake_kernel(image, config, "7.3.4+deb13-cloud-amd64",
		    "CONFIG_SCHED_CLASS_EXT=y\nCONFIG_VIRTIO_CONSOLE=y\n"
		    "CONFIG_BLK_DEV_INITRD=y\nCONFIG_VIRTIO_NET=y\n");
	load_ok(text, &z);
	cr_assert_eq(cz_zone_check_kernel(&z, rel, sizeof(rel), err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(rel, "7.3.4+deb13-cloud-amd64");
	cz_zone_free(&z);

	/* Ports need virtio-net built in: no modules come with it. */
	fake_kernel(image, config, "7.3.4", "CONFIG_SCHED_CLASS_EXT=y\n"
		    "CONFIG_VIRTIO_CONSOLE=y\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_VIRTIO_NET=m\n");
	load_ok(text, &z);
	cr_assert_eq(cz_zone_check_kernel(&z, rel, sizeof(rel), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: kernel.config: %s does not set CONFIG_VIRTIO_NET=y, and a zone of its own kernel has no modules for its forwarded ports",
		 path, config);
	cr_assert_str_eq(err, want);
	cz_zone_free(&z);

	fake_kernel(image, config, "6.1", "CONFIG_VIRTIO_CONSOLE=y\n");
	load_ok(text, &z);
	cr_assert_eq(cz_zone_check_kernel(&z, rel, sizeof(rel), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: kernel.config: %s does not set CONFIG_SCHED_CLASS_EXT=y (a zone needs it)",
		 path, config);
	cr_assert_str_eq(err, want);
	cz_zone_free(&z);

	/* Not a bzImage at all. */
	{
		FILE *f = fopen(image, "w");

		fputs("#!/bin/sh\n", f);
		fclose(f);
	}
	load_ok(text, &z);
	cr_assert_eq(cz_zone_check_kernel(&z, rel, sizeof(rel), err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: kernel.image: %s is not an x86 bzImage", path, image);
	cr_assert_str_eq(err, want);
	cz_zone_free(&z);
	unlink(image);
	unlink(config);
}


/* ---- switching rules and probes (lib/cz_zone_auto.c) ---- */

#define AUTO_HEAD HEAD "scheduler:\n  name: netaware\n  modes: {long: [--boost-us, '5000']}\n" \
	"services:\n  - name: redis\n    command: [redis-server]\n    ports: ['16379:6379']\n"

Test(zone, auto_rules_load)
{
	struct cz_zone z;

	load_ok(AUTO_HEAD
		"    probe: {send: \"PING\\r\\n\", expect: \"+PONG\", window: 10s}\n"
		"auto:\n"
		"  min_interval: 1m\n"
		"  rules:\n"
		"    - name: busy\n"
		"      when: cpu.util > 80 and (cpu.runnable >= 1.5 or probe.redis.p99 > 5)\n"
		"      until: cpu.util < 40\n"
		"      for: 500ms\n"
		"      scheduler: central\n"
		"      args: [-s, '20000']\n"
		"    - name: net\n"
		"      when: net.rx_pps > 1000 or sched.nr_boosted > 10\n"
		"      mode: long\n"
		"    - name: calm\n"
		"      when: cpu.pressure.some < 1\n"
		"      hold: 2m\n"
		"      scheduler: fair\n", &z);
	cr_assert_eq(z.nr_rules, 3);
	cr_expect_eq(z.min_interval_s, 60);
	cr_expect_str_eq(z.rules[0].name, "busy");
	cr_expect_eq(z.rules[0].for_s, 0.5);
	cr_expect_eq(z.rules[0].hold_s, 0.5, "hold defaults to for");
	cr_expect_str_eq(z.rules[0].target.sched, "scx_central");
	cr_expect_eq(z.rules[0].target.args.n, 2);
	cr_expect(z.rules[0].until != NULL);
	cr_expect_str_eq(z.rules[1].target.mode, "long");
	cr_expect_eq(z.rules[1].for_s, 5, "for defaults to 5s");
	cr_expect_null(z.rules[2].target.sched, "fair is no scheduler");
	cr_expect_eq(z.rules[2].hold_s, 120);
	cr_expect_eq(z.services[0].probe.port, 16379, "the service's first port");
	cr_expect_str_eq(z.services[0].probe.addr, "127.0.0.1");
	cr_expect_str_eq(z.services[0].probe.send, "PING\r\n");
	cr_expect_eq(z.services[0].probe.window_s, 10);
	cr_expect_eq(z.services[0].probe.interval_s, 1);
	cz_zone_free(&z);
}

Test(zone, auto_rules_bad)
{
#define RULE(x) AUTO_HEAD "auto:\n  rules:\n    - name: r\n" x
	load_bad(RULE("      when: cpu.utl > 1\n      scheduler: central\n"),
		 "13: auto.rules[0].when: unknown signal 'cpu.utl' (known: cpu.util, cpu.runnable, cpu.pressure.some, cpu.pressure.full, net.rx_pps, sched.KEY, probe.SERVICE.p50|p99|errors)");
	load_bad(RULE("      when: cpu.util >\n      scheduler: central\n"),
		 "13: auto.rules[0].when: at column 11: expected a number after 'cpu.util >'");
	load_bad(RULE("      when: cpu.util > 1 and\n      scheduler: central\n"),
		 "13: auto.rules[0].when: at column 17: expected a comparison, found the end");
	load_bad(RULE("      when: (cpu.util > 1\n      scheduler: central\n"),
		 "13: auto.rules[0].when: at column 14: expected ')'");
	load_bad(RULE("      when: cpu.util = 1\n      scheduler: central\n"),
		 "13: auto.rules[0].when: at column 10: expected a comparison (< <= > >= == !=) after 'cpu.util'");
	load_bad(RULE("      when: cpu.util > 1 xor cpu.util < 3\n      scheduler: central\n"),
		 "13: auto.rules[0].when: at column 14: expected 'and', 'or' or the end, found 'xor cpu.util < 3'");
	load_bad(RULE("      when: probe.redis.p99 > 1\n      scheduler: central\n"),
		 "13: auto.rules[0].when: 'probe.redis.p99': service redis has no probe");
	load_bad(RULE("      when: probe.web.p99 > 1\n      scheduler: central\n"),
		 "13: auto.rules[0].when: 'probe.web.p99': no service web in this zone");
	load_bad(RULE("      when: cpu.util > 1\n"),
		 "12: auto.rules[0]: a rule switches to a scheduler or to a mode of the zone's scheduler: give one of the two");
	load_bad(RULE("      when: cpu.util > 1\n      mode: short\n"),
		 "12: auto.rules[0]: no mode 'short' in scheduler.modes");
	load_bad(RULE("      when: cpu.util > 1\n      mode: long\n      args: [x]\n"),
		 "12: auto.rules[0]: args go with scheduler (a mode has its own)");
	load_bad(RULE("      when: cpu.util > 1\n      for: 5x\n      scheduler: fair\n"),
		 "14: auto.rules[0].for: '5x' is not a duration (seconds, or a number with ms, s, m or h; at most a day)");
	load_bad(RULE("      when: cpu.util > 1\n      scheduler: fair\n    - name: r\n      when: cpu.util > 2\n      scheduler: fair\n"),
		 "15: auto.rules[1]: a second rule named 'r'");
	load_bad(AUTO_HEAD "auto:\n  rules: []\n", "11: auto.rules: no rules (leave auto out instead)");
	load_bad(AUTO_HEAD "auto:\n  min_interval: 1s\n", "10: auto.rules: missing (a required key)");
	load_bad(AUTO_HEAD "    probe: {expect: x}\n",
		 "10: services[0].probe: expect needs send (a connect probe reads nothing)");
	load_bad(AUTO_HEAD "    probe: {port: 6379}\n",
		 "10: services[0].probe: port 6379 is not one of service redis's host ports");
	load_bad(HEAD "services:\n  - name: s\n    command: x\n    probe: {}\n",
		 "6: services[0].probe: a probe goes through a forwarded port: service s has none");
#undef RULE
}
