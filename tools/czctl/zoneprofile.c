/* SPDX-License-Identifier: GPL-2.0 */
/*
 * czctl zone profile: record a zone's workload and what its scheduler
 * made of it, as data and as a picture.
 *
 *   zone profile NAME --duration S [--interval S] [--out DIR] [--size WxH]
 *
 * Every interval (1 s) it reads what the supervisor keeps (the agent's
 * latest sample, the probes, what runs), for S seconds, then writes to DIR
 * (profile-NAME-DATE-TIME by default):
 *   profile.csv    one row per interval: time, scheduler, the signals,
 *                  each probe's latest latency and its window's p50/p99;
 *   profile.json   the same rows, and the switches in that time with the
 *                  rule and the values that made them;
 *   timeline.png, timeline.svg   four panels over time (probe latency,
 *                  CPU busy and pressure, runnable tasks per vCPU,
 *                  packets received), the scheduler that ran as coloured
 *                  bands, each switch a dashed line;
 *   timeline.gp    the gnuplot script that draws them, to restyle.
 *
 * Key choices:
 * - Plots are gnuplot's (Debian's gnuplot-nox), run on the script written
 *   here; no plotting code of our own.
 * - The band shows the scheduler the agent saw running in each sample,
 *   not the one a rule asked for: a failed switch shows as no change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "czctl.h"
#include "zonestate.h"

enum {
	MAX_PROBES	= 8,
	MAX_SCHEDS	= 8,
	PIXELS_MIN	= 200,
	PIXELS_MAX	= 8000,
};

/* The signals, in the CSV's order after time and scheduler. */
static const struct {
	const char	*key;		/* in the sample */
	const char	*col;		/* in the CSV */
} signals[] = {
	{ "cpu.util", "cpu_busy_pct" },
	{ "cpu.pressure.some", "cpu_pressure_some_pct" },
	{ "cpu.pressure.full", "cpu_pressure_full_pct" },
	{ "cpu.runnable", "runnable_per_cpu" },
	{ "net.rx_pps", "net_rx_pps" },
};
#define NR_SIGNALS	(sizeof(signals) / sizeof(signals[0]))
#define COL_FIRST_PROBE	(3 + NR_SIGNALS)	/* 1-based, for gnuplot */

static const char *const colours[MAX_SCHEDS] = {
	"#1b9e77", "#d95f02", "#7570b3", "#e7298a",
	"#66a61e", "#e6ab02", "#a6761d", "#666666",
};

struct profile {
	const char		*zone;
	double			interval, duration;
	double			wall0;
	char			probes[MAX_PROBES][64];
	int			nr_probes;
	struct json_object	*rows;		/* arrays, the CSV's columns */
	struct json_object	*events;
};

static double num(struct json_object *o, const char *key, bool *have)
{
	struct json_object *v;

	*have = o && json_object_object_get_ex(o, key, &v) && v &&
		(json_object_is_type(v, json_type_double) ||
		 json_object_is_type(v, json_type_int));
	return *have ? json_object_get_double(v) : 0;
}

/* One row from a status reply; NULL values where there is none. */
static struct json_object *row_of(struct profile *p, struct json_object *st, double t)
{
	struct json_object *row = json_object_new_array(), *sample = NULL, *probes = NULL;
	const char *sched;
	bool have;

	json_object_object_get_ex(st, "sample", &sample);
	json_object_object_get_ex(st, "probes", &probes);
	json_object_array_add(row, json_object_new_double(t));
	sched = zs_str(sample, "scheduler");
	json_object_array_add(row, json_object_new_string(*sched ? sched : "fair"));
	for (size_t i = 0; i < NR_SIGNALS; i++) {
		double v = num(sample, signals[i].key, &have);

		json_object_array_add(row, have ? json_object_new_double(v) : NULL);
	}
	for (int i = 0; i < p->nr_probes; i++) {
		struct json_object *pr = NULL;
		static const char *const keys[] = { "last_ms", "p50_ms", "p99_ms" };

		if (probes)
			json_object_object_get_ex(probes, p->probes[i], &pr);
		for (int k = 0; k < 3; k++) {
			double v = num(pr, keys[k], &have);

			json_object_array_add(row, have ? json_object_new_double(v) : NULL);
		}
	}
	return row;
}

static struct json_object *columns(const struct profile *p)
{
	struct json_object *c = json_object_new_array();
	char buf[128];

	json_object_array_add(c, json_object_new_string("time_s"));
	json_object_array_add(c, json_object_new_string("scheduler"));
	for (size_t i = 0; i < NR_SIGNALS; i++)
		json_object_array_add(c, json_object_new_string(signals[i].col));
	for (int i = 0; i < p->nr_probes; i++) {
		static const char *const sfx[] = { "last_ms", "p50_ms", "p99_ms" };

		for (int k = 0; k < 3; k++) {
			snprintf(buf, sizeof(buf), "probe_%s_%s", p->probes[i], sfx[k]);
			json_object_array_add(c, json_object_new_string(buf));
		}
	}
	return c;
}

/* The zone's switch decisions and results between wall0 and @wall1. */
static struct json_object *events_of(const struct profile *p, double wall1)
{
	struct json_object *out = json_object_new_array();
	char path[512], *line;
	struct cz_lines lb;
	int fd;

	zone_file(p->zone, "events.log", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return out;
	cz_lines_init(&lb, 1024 * 1024);
	while (cz_lines_fill(&lb, fd) > 0) {
		while ((line = cz_lines_next(&lb))) {
			struct json_object *o = json_tokener_parse(line);
			bool have;
			double t = num(o, "time", &have);
			const char *ev = zs_str(o, "event");

			if (have && t >= p->wall0 && t <= wall1 &&
			    (!strcmp(ev, "switch") ||
			     (!strcmp(ev, "auto") && *zs_str(o, "action")))) {
				json_object_object_add(o, "t", json_object_new_double(t - p->wall0));
				json_object_array_add(out, o);
			} else {
				json_object_put(o);
			}
		}
	}
	cz_lines_free(&lb);
	close(fd);
	return out;
}

static int write_csv(const struct profile *p, const char *dir)
{
	struct json_object *cols = columns(p);
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/profile.csv", dir);
	f = fopen(path, "w");
	if (!f) {
		json_object_put(cols);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(cols); i++)
		fprintf(f, "%s%s", i ? "," : "",
			json_object_get_string(json_object_array_get_idx(cols, i)));
	fputc('\n', f);
	for (size_t r = 0; r < json_object_array_length(p->rows); r++) {
		struct json_object *row = json_object_array_get_idx(p->rows, r);

		for (size_t i = 0; i < json_object_array_length(row); i++) {
			struct json_object *v = json_object_array_get_idx(row, i);

			fputs(i ? "," : "", f);
			if (json_object_is_type(v, json_type_string))
				fputs(json_object_get_string(v), f);
			else if (v)
				fprintf(f, "%.6g", json_object_get_double(v));
		}
		fputc('\n', f);
	}
	json_object_put(cols);
	return fclose(f) ? -1 : 0;
}

static int write_json(const struct profile *p, const char *dir)
{
	struct json_object *o = json_object_new_object();
	char path[4096];
	int ret;

	json_object_object_add(o, "zone", json_object_new_string(p->zone));
	json_object_object_add(o, "started", json_object_new_double(p->wall0));
	json_object_object_add(o, "interval_s", json_object_new_double(p->interval));
	json_object_object_add(o, "duration_s", json_object_new_double(p->duration));
	json_object_object_add(o, "columns", columns(p));
	json_object_object_add(o, "rows", json_object_get(p->rows));
	json_object_object_add(o, "switches", json_object_get(p->events));
	snprintf(path, sizeof(path), "%s/profile.json", dir);
	ret = json_object_to_file_ext(path, o, JSON_C_TO_STRING_PRETTY |
				      JSON_C_TO_STRING_NOSLASHESCAPE);
	json_object_put(o);
	return ret;
}

/* The scheduler bands and switch lines, for every panel. */
static void decorations(FILE *f, const struct profile *p, const char *scheds[],
			int *nr_scheds)
{
	size_t n = json_object_array_length(p->rows);
	size_t start = 0;

	for (size_t r = 1; r <= n; r++) {
		const char *a = json_object_get_string(json_object_array_get_idx(
			json_object_array_get_idx(p->rows, start), 1));
		const char *b = r < n ? json_object_get_string(json_object_array_get_idx(
			json_object_array_get_idx(p->rows, r), 1)) : NULL;
		double t0, t1;
		int k;

		if (b && !strcmp(a, b))
			continue;
		for (k = 0; k < *nr_scheds && strcmp(scheds[k], a); k++)
			;
		if (k == *nr_scheds && k < MAX_SCHEDS)
			scheds[(*nr_scheds)++] = a;
		t0 = json_object_get_double(json_object_array_get_idx(
			json_object_array_get_idx(p->rows, start), 0)) - p->interval / 2;
		t1 = json_object_get_double(json_object_array_get_idx(
			json_object_array_get_idx(p->rows, r - 1), 0)) + p->interval / 2;
		fprintf(f, "set object rect from %.3f, graph 0 to %.3f, graph 1 behind "
			"fillcolor rgb '%s' fillstyle transparent solid 0.18 noborder\n",
			t0 < 0 ? 0 : t0, t1, colours[k < MAX_SCHEDS ? k : MAX_SCHEDS - 1]);
		start = r;
	}
	for (size_t i = 0; i < json_object_array_length(p->events); i++) {
		struct json_object *e = json_object_array_get_idx(p->events, i);

		if (strcmp(zs_str(e, "event"), "switch"))
			continue;
		fprintf(f, "set arrow from %.3f, graph 0 to %.3f, graph 1 nohead "
			"linecolor rgb '#333333' dashtype 2\n",
			json_object_get_double(json_object_object_get(e, "t")),
			json_object_get_double(json_object_object_get(e, "t")));
	}
}

static int write_plot(const struct profile *p, const char *dir)
{
	const char *scheds[MAX_SCHEDS];
	int nr_scheds = 0;
	char path[4096], when[64], legend[MAX_SCHEDS * 160];
	time_t t = (time_t)p->wall0;
	struct tm tm;
	FILE *f;

	snprintf(path, sizeof(path), "%s/timeline.gp", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%F %T", &tm);
	fprintf(f, "# czctl zone profile: gnuplot -e \"set terminal pngcairo size 1200,900; "
		"set output 'x.png'\" timeline.gp\n");
	fprintf(f, "set datafile separator ','\nset datafile missing ''\n");
	fprintf(f, "data = 'profile.csv'\n");
	/* Names are shown as they are: no sub- or superscripts from '_'. */
	fprintf(f, "set termoption noenhanced\n");
	fprintf(f, "set multiplot layout %d,1 title 'zone %s: %s, one sample per %g s' "
		"font ',12'\n", p->nr_probes ? 4 : 3, p->zone, when, p->interval);
	fprintf(f, "set grid\nset xrange [0:%g]\nset lmargin 12\nset rmargin 24\n"
		"set key outside right top\nset format x ''\n", p->duration);
	decorations(f, p, scheds, &nr_scheds);
	/* The schedulers' colours, in the first panel's legend. */
	legend[0] = '\0';
	for (int k = 0; k < nr_scheds; k++) {
		size_t off = strlen(legend);

		snprintf(legend + off, sizeof(legend) - off,
			 ", keyentry with boxes fillcolor rgb '%s' fillstyle "
			 "transparent solid 0.4 title '%s'", colours[k], scheds[k]);
	}

	/* 1: latency, if there are probes. */
	if (p->nr_probes) {
		fprintf(f, "set ylabel 'probe latency (ms)'\nset logscale y\nplot ");
		for (int i = 0; i < p->nr_probes; i++)
			fprintf(f, "%sdata using 1:%d skip 1 with points pointtype 7 "
				"pointsize 0.4 title '%s each', data using 1:%d skip 1 "
				"with lines linewidth 2 title '%s p99 (window)'", i ? ", " : "",
				(int)COL_FIRST_PROBE + 3 * i, p->probes[i],
				(int)COL_FIRST_PROBE + 3 * i + 2, p->probes[i]);
		fprintf(f, "%s\nunset logscale y\n", legend);
		legend[0] = '\0';
	}
	/* 2: CPU busy and pressure. */
	fprintf(f, "set ylabel 'CPU (%%)'\nset yrange [0:105]\n"
		"plot data using 1:3 skip 1 with lines linewidth 2 title 'busy', "
		"data using 1:4 skip 1 with lines title 'pressure some', "
		"data using 1:5 skip 1 with lines title 'pressure full'%s\n"
		"set autoscale y\n", legend);
	/*
	 * 3: runnable tasks; 4: network, with the time axis. A short panel
	 * gets three ticks, from the data's maximum, or its labels overlap.
	 */
	fprintf(f, "set ylabel 'runnable/vCPU'\nset yrange [0:*]\n"
		"stats data using 6 skip 1 nooutput\n"
		"set ytics 0, (STATS_max > 0 ? STATS_max / 2 : 1)\nset format y '%%.2g'\n"
		"plot data using 1:6 skip 1 with lines linewidth 2 title 'runnable'\n");
	fprintf(f, "set ylabel 'rx packets/s'\nset xlabel 'time (s)'\n"
		"set format x '%%g'\nset format y '%%.3g'\n"
		"stats data using 7 skip 1 nooutput\n"
		"set ytics 0, (STATS_max > 0 ? STATS_max / 2 : 1)\n"
		"plot data using 1:7 skip 1 with lines linewidth 2 title 'rx packets/s'\n"
		"unset multiplot\n");
	return fclose(f) ? -1 : 0;
}

/* gnuplot on timeline.gp in @dir with @term, into @out. */
static int gnuplot(const char *dir, const char *term, const char *out)
{
	char setup[512];
	int status;
	pid_t pid;

	snprintf(setup, sizeof(setup), "set terminal %s; set output '%s'", term, out);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (chdir(dir))
			_exit(127);
		execlp("gnuplot", "gnuplot", "-e", setup, "timeline.gp", (char *)NULL);
		fprintf(stderr, "czctl: cannot run gnuplot: %s (Debian: gnuplot-nox)\n",
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return 0;
}

int cmd_zone_profile(int argc, char **argv)
{
	static const struct option options[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct profile p = { .interval = 1, .duration = -1 };
	struct json_object *st, *probes = NULL, *args;
	char dir[4096] = "", term[128], err[128], msg[512];
	unsigned int w = 1200, h = 900;
	double t0;
	int opt, ret = CZ_EXIT_FAIL, switches = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (cz_parse_num(optarg, 1, 86400, false, &p.duration, err, sizeof(err)))
				return usage_error("zone profile --duration: %s", err);
			break;
		case 'i':
			if (cz_parse_num(optarg, 0.2, 60, false, &p.interval, err, sizeof(err)))
				return usage_error("zone profile --interval: %s", err);
			break;
		case 'o':
			snprintf(dir, sizeof(dir), "%s", optarg);
			break;
		case 's':
			if (sscanf(optarg, "%ux%u", &w, &h) != 2 || w < PIXELS_MIN || h < PIXELS_MIN ||
			    w > PIXELS_MAX || h > PIXELS_MAX)
				return usage_error("zone profile --size: '%s' is not WxH, %d to %d pixels each",
						   optarg, PIXELS_MIN, PIXELS_MAX);
			break;
		default:
			return CZ_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || p.duration < 0)
		return usage_error("zone profile takes NAME --duration S [--interval S] [--out DIR] [--size WxH]");
	p.zone = argv[optind];

	/* The zone must run, and say which services it probes. */
	args = json_object_new_object();
	json_object_object_add(args, "op", json_object_new_string("status"));
	if (zone_call(p.zone, "auto", args, 30, &st, msg, sizeof(msg))) {
		cz_say("zone profile: %s", msg);
		return CZ_EXIT_FAIL;
	}
	json_object_object_get_ex(st, "probes", &probes);
	if (probes) {
		json_object_object_foreach(probes, k, v) {
			(void)v;
			if (p.nr_probes < MAX_PROBES)
				snprintf(p.probes[p.nr_probes++], sizeof(p.probes[0]), "%s", k);
		}
	}
	json_object_put(st);
	if (!*dir) {
		time_t now = time(NULL);
		struct tm tm;
		char stamp[32];

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		snprintf(dir, sizeof(dir), "profile-%s-%s", p.zone, stamp);
	}
	if (mkdir(dir, 0755) && errno != EEXIST) {
		cz_say("zone profile: %s: %s", dir, strerror(errno));
		return CZ_EXIT_FAIL;
	}

	p.rows = json_object_new_array();
	p.wall0 = cz_wall();
	t0 = cz_now();
	fprintf(stderr, "profiling zone %s for %g s into %s/\n", p.zone, p.duration, dir);
	/* One row per interval, at its end. */
	for (int k = 1; ; k++) {
		double next = t0 + k * p.interval;

		if (next - t0 > p.duration + 1e-6)
			break;
		if (next > cz_now())
			cz_sleep(next - cz_now());
		args = json_object_new_object();
		json_object_object_add(args, "op", json_object_new_string("status"));
		if (zone_call(p.zone, "auto", args, 10, &st, msg, sizeof(msg))) {
			cz_say("zone profile: %s (after %.0f s)", msg, cz_now() - t0);
			goto out;
		}
		json_object_array_add(p.rows, row_of(&p, st, cz_now() - t0));
		json_object_put(st);
	}
	p.events = events_of(&p, cz_wall());
	snprintf(term, sizeof(term), "pngcairo size %u,%u", w, h);
	if (write_csv(&p, dir) || write_json(&p, dir) || write_plot(&p, dir)) {
		cz_say("zone profile: writing into %s: %s", dir, strerror(errno));
		goto out;
	}
	if (gnuplot(dir, term, "timeline.png")) {
		cz_say("zone profile: gnuplot could not draw %s/timeline.png", dir);
		goto out;
	}
	snprintf(term, sizeof(term), "svg size %u,%u dynamic", w, h);
	if (gnuplot(dir, term, "timeline.svg")) {
		cz_say("zone profile: gnuplot could not draw %s/timeline.svg", dir);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(p.events); i++)
		switches += !strcmp(zs_str(json_object_array_get_idx(p.events, i), "event"),
				    "switch");
	printf("%s/profile.csv, profile.json, timeline.png, timeline.svg: %zu samples, %d switches\n",
	       dir, json_object_array_length(p.rows), switches);
	ret = CZ_EXIT_OK;
out:
	json_object_put(p.rows);
	json_object_put(p.events);
	return ret;
}
