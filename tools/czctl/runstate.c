/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The run-state file (runstate.h): scheduler names, encoding and
 * decoding of /run/controlzone/current, its atomic write, and the check
 * that a recorded pid is still the recorded loader.
 *
 * Decoding is strict (every key present with the right type): the file is
 * only ever written by czctl, so anything else means it is damaged, and a
 * damaged file must not make czctl signal some arbitrary pid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "cz_util.h"
#include "runstate.h"

/* The largest file we read: args are short, paths at most PATH_MAX. */
#define RUNSTATE_MAX	(256 * 1024)

int cz_sched_name(const char *in, char *out, size_t len)
{
	const char *ops = strncmp(in, "scx_", 4) ? in : in + 4;
	size_t n = strlen(ops);

	if (!n || n + 4 >= len || n + 4 >= CZ_SCHED_NAME_MAX)
		return -1;
	for (const char *p = ops; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    *p != '_' && *p != '-')
			return -1;
	snprintf(out, len, "scx_%s", ops);
	return 0;
}

const char *cz_sched_ops(const char *sched)
{
	return strncmp(sched, "scx_", 4) ? sched : sched + 4;
}

/* The args as one shell-like string, for messages and status. */
void cz_runstate_args(const struct cz_runstate *rs, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < rs->argc && off < len; i++) {
		const char *a = rs->argv[i];
		bool quote = !*a || strpbrk(a, " \t\n'\"\\$");

		off += snprintf(buf + off, len - off, "%s%s%s%s", i ? " " : "",
				quote ? "'" : "", a, quote ? "'" : "");
	}
}

char *cz_runstate_encode(const struct cz_runstate *rs)
{
	struct json_object *o = json_object_new_object(), *args;
	char *line = NULL;
	const char *s;

	args = json_object_new_array();
	if (!o || !args)
		goto out;
	for (int i = 0; i < rs->argc; i++)
		json_object_array_add(args, json_object_new_string(rs->argv[i]));
	json_object_object_add(o, "pid", json_object_new_int(rs->pid));
	json_object_object_add(o, "sched", json_object_new_string(rs->sched));
	json_object_object_add(o, "binary", json_object_new_string(rs->binary));
	json_object_object_add(o, "args", args);
	args = NULL;
	json_object_object_add(o, "started", json_object_new_double(rs->started));
	json_object_object_add(o, "log", json_object_new_string(rs->log));
	if (rs->root[0])
		json_object_object_add(o, "root", json_object_new_string(rs->root));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s && asprintf(&line, "%s\n", s) < 0)
		line = NULL;
out:
	json_object_put(args);
	json_object_put(o);
	return line;
}

/* Copy string member @key of @o into @buf; -1 if absent, not a string, too long. */
static int get_str(struct json_object *o, const char *key, char *buf, size_t len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) >= len)
		return -1;
	memcpy(buf, json_object_get_string(v), json_object_get_string_len(v) + 1);
	/* An embedded NUL would make the C string lie about the value. */
	return strlen(buf) == (size_t)json_object_get_string_len(v) ? 0 : -1;
}

int cz_runstate_set_args(struct cz_runstate *rs, int argc, char *const *argv)
{
	char **copy = calloc(argc + 1, sizeof(*copy));

	if (!copy)
		return -1;
	for (int i = 0; i < argc; i++) {
		copy[i] = strdup(argv[i]);
		if (!copy[i]) {
			while (i--)
				free(copy[i]);
			free(copy);
			return -1;
		}
	}
	for (int i = 0; i < rs->argc; i++)
		free(rs->argv[i]);
	free(rs->argv);
	rs->argv = copy;
	rs->argc = argc;
	return 0;
}

void cz_runstate_free(struct cz_runstate *rs)
{
	for (int i = 0; i < rs->argc; i++)
		free(rs->argv[i]);
	free(rs->argv);
	rs->argv = NULL;
	rs->argc = 0;
}

int cz_runstate_decode(const char *text, struct cz_runstate *rs,
		       char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = NULL, *v, *args;
	char sched[CZ_SCHED_NAME_MAX];
	const char *why = NULL;
	char **argv = NULL;
	int argc = 0, ret = -1;

	memset(rs, 0, sizeof(*rs));
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o = json_tokener_parse_ex(tok, text, strlen(text));
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		why = "not JSON";
		goto out;
	}
	/* Nothing but white space after the object. */
	for (const char *p = text + json_tokener_get_parse_end(tok); *p; p++)
		if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r') {
			why = "data after the object";
			goto out;
		}
	if (!json_object_is_type(o, json_type_object)) {
		why = "not a JSON object";
		goto out;
	}
	if (!json_object_object_get_ex(o, "pid", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 1 || json_object_get_int64(v) > INT_MAX) {
		why = "no valid \"pid\"";
		goto out;
	}
	rs->pid = json_object_get_int64(v);
	if (get_str(o, "sched", rs->sched, sizeof(rs->sched)) ||
	    cz_sched_name(rs->sched, sched, sizeof(sched)) ||
	    strcmp(sched, rs->sched)) {
		why = "no valid \"sched\"";
		goto out;
	}
	if (get_str(o, "binary", rs->binary, sizeof(rs->binary)) ||
	    rs->binary[0] != '/') {
		why = "no absolute \"binary\"";
		goto out;
	}
	if (get_str(o, "log", rs->log, sizeof(rs->log))) {
		why = "no valid \"log\"";
		goto out;
	}
	/* Optional: only a scheduler run from an image has one. */
	if (json_object_object_get_ex(o, "root", &v) &&
	    (get_str(o, "root", rs->root, sizeof(rs->root)) || rs->root[0] != '/' ||
	     strncmp(rs->binary, rs->root, strlen(rs->root)))) {
		why = "no valid \"root\" (an absolute path holding \"binary\")";
		goto out;
	}
	if (!json_object_object_get_ex(o, "started", &v) ||
	    (!json_object_is_type(v, json_type_double) &&
	     !json_object_is_type(v, json_type_int))) {
		why = "no valid \"started\"";
		goto out;
	}
	rs->started = json_object_get_double(v);
	if (!json_object_object_get_ex(o, "args", &args) ||
	    !json_object_is_type(args, json_type_array)) {
		why = "no \"args\" list";
		goto out;
	}
	argc = json_object_array_length(args);
	argv = calloc(argc + 1, sizeof(*argv));
	if (!argv) {
		why = "out of memory";
		goto out;
	}
	for (int i = 0; i < argc; i++) {
		v = json_object_array_get_idx(args, i);
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(json_object_get_string(v)) !=
		    (size_t)json_object_get_string_len(v)) {
			why = "an argument that is not a string";
			goto out;
		}
		argv[i] = strdup(json_object_get_string(v));
		if (!argv[i]) {
			why = "out of memory";
			goto out;
		}
	}
	rs->argc = argc;
	rs->argv = argv;
	argv = NULL;
	ret = 0;
out:
	if (argv) {
		for (int i = 0; i < argc; i++)
			free(argv[i]);
		free(argv);
	}
	if (why)
		snprintf(err, errlen, "%s", why);
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

int cz_runstate_write(const char *dir, const struct cz_runstate *rs,
		      char *err, size_t errlen)
{
	char tmp[PATH_MAX], path[PATH_MAX], *line;
	size_t n, off = 0;
	int fd;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	line = cz_runstate_encode(rs);
	if (!line) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" CZ_RUN_CURRENT, dir);
	snprintf(tmp, sizeof(tmp), "%s/." CZ_RUN_CURRENT ".%d", dir, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(line);
		return -1;
	}
	n = strlen(line);
	while (off < n) {
		ssize_t w = write(fd, line + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += w;
	}
	free(line);
	/* The umask must not decide who may read it: status runs as anyone. */
	if (off < n || fchmod(fd, 0644) || fsync(fd)) {
		snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd)) {
		snprintf(err, errlen, "writing %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int cz_runstate_read(const char *dir, struct cz_runstate *rs,
		     char *err, size_t errlen)
{
	char path[PATH_MAX], *buf;
	size_t n;
	FILE *f;
	int ret;

	memset(rs, 0, sizeof(*rs));
	snprintf(path, sizeof(path), "%s/" CZ_RUN_CURRENT, dir);
	f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return 1;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(RUNSTATE_MAX + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = fread(buf, 1, RUNSTATE_MAX + 1, f);
	fclose(f);
	if (n > RUNSTATE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, RUNSTATE_MAX);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	ret = cz_runstate_decode(buf, rs, err, errlen);
	free(buf);
	if (ret) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
	}
	return ret;
}

int cz_runstate_remove(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/" CZ_RUN_CURRENT, dir);
	return unlink(path) && errno != ENOENT ? -1 : 0;
}

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool cz_pid_runs(pid_t pid, const char *binary)
{
	char cmd[PATH_MAX + 1];

	/* Gone, a zombie, or exiting: an empty command line. */
	if (pid <= 1 || cz_read_cmdline(pid, cmd, sizeof(cmd)) < 0)
		return false;
	/* argv[0] ends at its own NUL. */
	return !strcmp(base(cmd), base(binary));
}
