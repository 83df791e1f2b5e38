/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cz-exporter: one metrics endpoint for every Control Zone on this host
 * and the host's own sched_ext scheduler, for Prometheus.
 *
 *   cz-exporter [--listen ADDR:PORT] [--once [--openmetrics]] [-v] [-h]
 *
 * GET /metrics serves, with a zone label ("host" for a scheduler running
 * natively): each zone's state, its switching rules' state and switch
 * counts, the signals its agent samples, its probes' latencies, each vCPU
 * thread's run time and run delay on the host (/proc/PID/task/TID/
 * schedstat: the time a vCPU waited for a host CPU), and the scheduler's
 * own statistics under their OpenMetrics names. OpenMetrics when the
 * client's Accept asks for it (Prometheus does), else the 0.0.4 text
 * format. --once prints one scrape and exits.
 *
 * Key choices:
 * - libmicrohttpd serves, a thread per connection with a timeout, so ten
 *   scrapers at once and a client that never reads do not hold up the
 *   others; a path other than /metrics is 404, a method other than GET
 *   or HEAD 405.
 * - Every scrape reads afresh: state.json and the supervisor's control
 *   socket for a zone, its host-side stats socket for its scheduler. A
 *   zone that does not answer within a few seconds is reported down
 *   (cz_zone_up 0) rather than holding up the scrape.
 * - A separate program, not a czctl command: czctl also runs inside every
 *   zone, whose image should not carry an HTTP server and its libraries.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <json-c/json.h>
#include "cz_om.h"
#include "cz_stats_client.h"
#include "cz_stats_print.h"
#include "cz_util.h"
#include "zonestate.h"

#ifndef CZ_VERSION
#define CZ_VERSION "unknown"
#endif

enum {
	DEFAULT_PORT	= 9464,
	ZONE_TIMEOUT_S	= 5,
	CONN_TIMEOUT_S	= 10,
	MAX_CONNS	= 64,
	LABELS_MAX	= 1024,
};

static const char usage[] =
"usage: cz-exporter [--listen ADDR:PORT] [--once [--openmetrics]] [-v] [-h]\n"
"\n"
"Serve every Control Zone's and the host scheduler's metrics at\n"
"http://ADDR:PORT/metrics (default 127.0.0.1:9464), for Prometheus.\n"
"  --listen ADDR:PORT  where to listen (IPv4)\n"
"  --once              print one scrape to stdout and exit\n"
"  --openmetrics       with --once: OpenMetrics instead of the 0.0.4 format\n"
"  -v, --version       print the version\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 ok (or stopped by SIGINT/SIGTERM), 1 cannot listen or\n"
"collect, 2 bad arguments.\n";

static void declare(struct cz_om *om)
{
	static const struct {
		const char	*name;
		enum cz_om_type	type;
		const char	*unit;
		const char	*help;
	} fam[] = {
		{ "cz_zone_up", CZ_OM_GAUGE, NULL, "1 if the zone runs and its supervisor answers" },
		{ "cz_zone_vcpus", CZ_OM_GAUGE, NULL, "the zone's vCPUs" },
		{ "cz_zone_scheduler_info", CZ_OM_GAUGE, NULL, "the sched_ext scheduler running in the zone (ops name; fair: none)" },
		{ "cz_zone_auto_enabled", CZ_OM_GAUGE, NULL, "1 if the zone's switching rules are on and not held by a manual switch" },
		{ "cz_zone_switches", CZ_OM_COUNTER, NULL, "scheduler switches in the zone, by who asked" },
		{ "cz_zone_switch_failures", CZ_OM_COUNTER, NULL, "automatic switches that failed and were rolled back" },
		{ "cz_zone_cpu_busy_ratio", CZ_OM_GAUGE, "ratio", "share of the zone's CPU time busy over the last second" },
		{ "cz_zone_runnable_per_cpu", CZ_OM_GAUGE, NULL, "runnable tasks per vCPU in the zone, averaged over the last second" },
		{ "cz_zone_cpu_pressure_some_ratio", CZ_OM_GAUGE, "ratio", "the zone's /proc/pressure/cpu some avg10" },
		{ "cz_zone_cpu_pressure_full_ratio", CZ_OM_GAUGE, "ratio", "the zone's /proc/pressure/cpu full avg10" },
		{ "cz_zone_receive_packets_per_second", CZ_OM_GAUGE, NULL, "packets received by the zone's interfaces per second" },
		{ "cz_zone_probe_latency_seconds", CZ_OM_GAUGE, "seconds", "a service probe's latency over its window, by quantile" },
		{ "cz_zone_probes", CZ_OM_COUNTER, NULL, "service probes sent" },
		{ "cz_zone_probe_failures", CZ_OM_COUNTER, NULL, "service probes that failed or timed out" },
		{ "cz_zone_vcpu_run_seconds", CZ_OM_COUNTER, "seconds", "time a vCPU thread ran on the host" },
		{ "cz_zone_vcpu_run_delay_seconds", CZ_OM_COUNTER, "seconds", "time a vCPU thread waited for a host CPU" },
		{ "cz_sched_ext_enabled", CZ_OM_GAUGE, NULL, "1 if the host's sched_ext is enabled, by ops name" },
	};

	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		cz_om_family(om, fam[i].name, fam[i].type, fam[i].unit, fam[i].help);
}

static void labels(char *buf, const char *zone, const char *k2, const char *v2)
{
	buf[0] = '\0';
	cz_om_label(buf, LABELS_MAX, "zone", zone);
	if (k2)
		cz_om_label(buf, LABELS_MAX, k2, v2);
}

/* The scheduler behind stats socket @sock: its families, labelled. */
static void sched_stats(struct cz_om *om, const char *sock, const char *zone)
{
	struct json_object *meta = NULL, *resp = NULL;
	struct cz_stats_conn c;
	char msg[256], lab[LABELS_MAX];

	if (cz_stats_connect(&c, sock, ZONE_TIMEOUT_S))
		return;
	labels(lab, zone, NULL, NULL);
	if (!cz_stats_call(&c, cz_stats_request("stats_meta", NULL), &meta, msg,
			   sizeof(msg), NULL) &&
	    !cz_stats_call(&c, cz_stats_request("stats", "top"), &resp, msg,
			   sizeof(msg), NULL))
		cz_stats_om_collect(om, meta, resp, lab);
	json_object_put(meta);
	json_object_put(resp);
	cz_stats_disconnect(&c);
}

/* Each vCPU thread's schedstat: run time and run delay (ns). */
static void vcpu_times(struct cz_om *om, const char *zone, struct json_object *st)
{
	struct json_object *pins = NULL;
	long long qemu = zs_int(st, "qemu");

	json_object_object_get_ex(st, "pinning", &pins);
	for (size_t i = 0; pins && i < json_object_array_length(pins); i++) {
		struct json_object *p = json_object_array_get_idx(pins, i);
		char path[128], line[256], lab[LABELS_MAX], vcpu[24];
		unsigned long long run, delay;

		snprintf(path, sizeof(path), "/proc/%lld/task/%lld/schedstat", qemu,
			 zs_int(p, "thread"));
		if (cz_read_line(path, line, sizeof(line)) ||
		    sscanf(line, "%llu %llu", &run, &delay) != 2)
			continue;
		snprintf(vcpu, sizeof(vcpu), "%lld", zs_int(p, "vcpu"));
		labels(lab, zone, "vcpu", vcpu);
		cz_om_samplef(om, "cz_zone_vcpu_run_seconds", lab, run / 1e9);
		cz_om_samplef(om, "cz_zone_vcpu_run_delay_seconds", lab, delay / 1e9);
	}
}

/* A sample's signal @key, scaled, as family @name. */
static void sample_value(struct cz_om *om, struct json_object *sample, const char *key,
		   const char *name, double scale, const char *lab)
{
	struct json_object *v;

	if (json_object_object_get_ex(sample, key, &v) && v)
		cz_om_samplef(om, name, lab, json_object_get_double(v) * scale);
}

/* The supervisor's view: rules, switches, signals, probes. */
static bool zone_auto(struct cz_om *om, const char *zone)
{
	struct json_object *args = json_object_new_object(), *st, *sample = NULL, *probes = NULL;
	char msg[256], lab[LABELS_MAX];
	const char *ops;

	json_object_object_add(args, "op", json_object_new_string("status"));
	if (zone_call(zone, "auto", args, ZONE_TIMEOUT_S, &st, msg, sizeof(msg)))
		return false;
	labels(lab, zone, NULL, NULL);
	cz_om_samplef(om, "cz_zone_auto_enabled", lab,
		      json_object_get_boolean(json_object_object_get(st, "on")) &&
		      !json_object_get_boolean(json_object_object_get(st, "held")));
	cz_om_samplef(om, "cz_zone_switch_failures", lab, zs_int(st, "failures"));
	labels(lab, zone, "by", "auto");
	cz_om_samplef(om, "cz_zone_switches", lab, zs_int(st, "switches"));
	labels(lab, zone, "by", "manual");
	cz_om_samplef(om, "cz_zone_switches", lab, zs_int(st, "manual_switches"));

	json_object_object_get_ex(st, "sample", &sample);
	if (sample) {
		labels(lab, zone, NULL, NULL);
		sample_value(om, sample, "cpu.util", "cz_zone_cpu_busy_ratio", 0.01, lab);
		sample_value(om, sample, "cpu.runnable", "cz_zone_runnable_per_cpu", 1, lab);
		sample_value(om, sample, "cpu.pressure.some", "cz_zone_cpu_pressure_some_ratio", 0.01, lab);
		sample_value(om, sample, "cpu.pressure.full", "cz_zone_cpu_pressure_full_ratio", 0.01, lab);
		sample_value(om, sample, "net.rx_pps", "cz_zone_receive_packets_per_second", 1, lab);
		ops = zs_str(sample, "scheduler");
		labels(lab, zone, "ops", *ops ? ops : "fair");
		cz_om_samplef(om, "cz_zone_scheduler_info", lab, 1);
	}
	json_object_object_get_ex(st, "probes", &probes);
	if (probes) {
		json_object_object_foreach(probes, svc, p) {
			struct json_object *q;

			labels(lab, zone, "service", svc);
			cz_om_samplef(om, "cz_zone_probes", lab, zs_int(p, "total"));
			cz_om_samplef(om, "cz_zone_probe_failures", lab, zs_int(p, "total_errors"));
			if (json_object_object_get_ex(p, "p50_ms", &q) && q) {
				cz_om_label(lab, sizeof(lab), "quantile", "0.5");
				cz_om_samplef(om, "cz_zone_probe_latency_seconds", lab,
					      json_object_get_double(q) / 1000);
			}
			labels(lab, zone, "service", svc);
			if (json_object_object_get_ex(p, "p99_ms", &q) && q) {
				cz_om_label(lab, sizeof(lab), "quantile", "0.99");
				cz_om_samplef(om, "cz_zone_probe_latency_seconds", lab,
					      json_object_get_double(q) / 1000);
			}
		}
	}
	json_object_put(st);
	return true;
}

static void zone_metrics(struct cz_om *om, const char *zone)
{
	struct json_object *st = zone_state_read(zone);
	char lab[LABELS_MAX], sock[512];
	bool up = false;

	labels(lab, zone, NULL, NULL);
	if (st && zone_live_supervisor(st, zone) &&
	    !strcmp(zs_str(st, "state"), "running")) {
		cz_om_samplef(om, "cz_zone_vcpus", lab, zs_int(st, "vcpus"));
		vcpu_times(om, zone, st);
		up = zone_auto(om, zone);
		zone_file(zone, "stats", sock, sizeof(sock));
		if (up)
			sched_stats(om, sock, zone);
	}
	cz_om_samplef(om, "cz_zone_up", lab, up);
	json_object_put(st);
}

/* The host's own sched_ext scheduler, if one runs. */
static void host_metrics(struct cz_om *om)
{
	char state[64], ops[128], lab[LABELS_MAX];

	if (cz_scx_now(state, sizeof(state), ops, sizeof(ops)))
		return;
	labels(lab, "host", "ops", ops);
	cz_om_samplef(om, "cz_sched_ext_enabled", lab, !strcmp(state, "enabled"));
	if (!strcmp(state, "enabled") && !access(CZ_STATS_SOCKET_DEFAULT, F_OK))
		sched_stats(om, CZ_STATS_SOCKET_DEFAULT, "host");
}

/* One scrape as text (malloc'd, *@len), or NULL. */
static char *scrape(bool openmetrics, size_t *len)
{
	struct cz_om *om = cz_om_new();
	char *buf = NULL;
	DIR *d = opendir(CZ_ZONES_DIR);
	struct dirent *e;
	FILE *f;

	if (!om) {
		if (d)
			closedir(d);
		return NULL;
	}
	declare(om);
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			zone_metrics(om, e->d_name);
	if (d)
		closedir(d);
	host_metrics(om);
	f = open_memstream(&buf, len);
	if (!f || cz_om_write(om, f, openmetrics)) {
		if (f)
			fclose(f);
		free(buf);
		buf = NULL;
	} else if (fclose(f)) {
		free(buf);
		buf = NULL;
	}
	cz_om_free(om);
	return buf;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int code,
				  const char *type, char *body, size_t len,
				  enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **ctx)
{
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char not_allowed[] = "only GET and HEAD\n";
	static const char index_page[] = "cz-exporter: the metrics are at /metrics\n";
	const char *accept;
	bool om;
	size_t len = 0;
	char *body;

	(void)cls;
	(void)version;
	(void)upload;
	/* The first call only announces the request; answer on the second. */
	if (!*ctx) {
		*ctx = (void *)1;
		return MHD_YES;
	}
	if (*upload_len) {
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
				  (char *)not_allowed, strlen(not_allowed),
				  MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply_text(conn, MHD_HTTP_OK, "text/plain", (char *)index_page,
				  strlen(index_page), MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "text/plain",
				  (char *)not_found, strlen(not_found),
				  MHD_RESPMEM_PERSISTENT);
	accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	om = accept && strstr(accept, "application/openmetrics-text");
	body = scrape(om, &len);
	if (!body)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
				  "collecting failed\n", 18, MHD_RESPMEM_PERSISTENT);
	return reply_text(conn, MHD_HTTP_OK, om ? CZ_OM_CONTENT_TYPE : CZ_PROM_CONTENT_TYPE,
			  body, len, MHD_RESPMEM_MUST_FREE);
}

/* MHD's own messages, as ours. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fprintf(stderr, "%s: ", cz_prog);
	vfprintf(stderr, fmt, ap);
}

/* Our own listening socket: a port in use is one clear line, ours. */
static int listen_on(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) || listen(fd, MAX_CONNS)) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int parse_listen(const char *arg, struct sockaddr_in *sa)
{
	char addr[64], err[128];
	const char *colon = strrchr(arg, ':');
	double port;

	if (!colon || colon - arg >= (long)sizeof(addr))
		return -1;
	snprintf(addr, sizeof(addr), "%.*s", (int)(colon - arg), arg);
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1 ||
	    cz_parse_num(colon + 1, 1, 65535, true, &port, err, sizeof(err)))
		return -1;
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "once", no_argument, NULL, 'o' },
		{ "openmetrics", no_argument, NULL, 'm' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(DEFAULT_PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool once = false, openmetrics = false;
	struct MHD_Daemon *d;
	sigset_t mask;
	int opt, sig, lfd;

	cz_prog = "cz-exporter";
	while ((opt = getopt_long(argc, argv, "vh", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (parse_listen(optarg, &sa)) {
				cz_say("--listen '%s': expected ADDR:PORT, an IPv4 address and a port from 1 to 65535",
				       optarg);
				return CZ_EXIT_USAGE;
			}
			break;
		case 'o':
			once = true;
			break;
		case 'm':
			openmetrics = true;
			break;
		case 'v':
			puts("cz-exporter (controlzone) " CZ_VERSION);
			return CZ_EXIT_OK;
		case 'h':
			fputs(usage, stdout);
			return CZ_EXIT_OK;
		default:
			fputs(usage, stderr);
			return CZ_EXIT_USAGE;
		}
	}
	if (optind < argc || (openmetrics && !once)) {
		cz_say(optind < argc ? "unexpected argument '%s'" :
		       "--openmetrics goes with --once (a server follows the client's Accept)",
		       argv[optind < argc ? optind : 0]);
		return CZ_EXIT_USAGE;
	}
	if (once) {
		size_t len;
		char *text = scrape(openmetrics, &len);

		if (!text) {
			cz_say("collecting the metrics failed: %s", strerror(errno));
			return CZ_EXIT_FAIL;
		}
		fwrite(text, 1, len, stdout);
		free(text);
		return CZ_EXIT_OK;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	/* Blocked before libmicrohttpd's threads start, so they inherit it. */
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	lfd = listen_on(&sa);
	d = lfd < 0 ? NULL :
	    MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, NULL,
			     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			     MHD_OPTION_LISTEN_SOCKET, lfd,
			     MHD_OPTION_STRICT_FOR_CLIENT, 1,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONN_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNS,
			     MHD_OPTION_END);
	if (!d) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &sa.sin_addr, a, sizeof(a));
		cz_say("cannot listen on %s:%u: %s", a, ntohs(sa.sin_port), strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return CZ_EXIT_FAIL;
	}
	sigwait(&mask, &sig);
	MHD_stop_daemon(d);
	return CZ_EXIT_OK;
}
