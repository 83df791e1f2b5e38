/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stats reply as people and monitoring read it (cz_stats_print.h): one
 * "key value" line per field, or OpenMetrics text driven by stats_meta.
 *
 * Key choices:
 * - Everything comes from the reply and its metadata, not from our own
 *   descriptor tables, so scx's own schedulers print the same way.
 * - OpenMetrics: counters are named FAMILY with samples FAMILY_total, as
 *   that format requires; per-CPU statistics are one sample per CPU with a
 *   cpu label, and no unlabelled sum (sum() gives it without double
 *   counting); tunables show as gauges.
 */
#include <stdbool.h>
#include <string.h>
#include <json-c/json.h>
#include "cz_om.h"
#include "cz_stats_print.h"

enum {
	TO_STRING = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
};

/* A number or string as text; other values as JSON. */
static const char *value_text(struct json_object *v, char *buf, size_t len)
{
	switch (json_object_get_type(v)) {
	case json_type_int:
		/* json-c keeps u64 values above INT64_MAX apart from int64 ones. */
		if (json_object_get_int64(v) < 0)
			snprintf(buf, len, "%lld", (long long)json_object_get_int64(v));
		else
			snprintf(buf, len, "%llu",
				 (unsigned long long)json_object_get_uint64(v));
		return buf;
	case json_type_double:
		snprintf(buf, len, "%.15g", json_object_get_double(v));
		return buf;
	case json_type_string:
		return json_object_get_string(v);
	default:
		return json_object_to_json_string_ext(v, TO_STRING);
	}
}

int cz_stats_print_text(FILE *f, struct json_object *resp)
{
	int width = 0;
	char buf[64];

	if (!json_object_is_type(resp, json_type_object))
		return -1;
	json_object_object_foreach(resp, k0, v0) {
		(void)v0;
		if ((int)strlen(k0) > width)
			width = strlen(k0);
	}
	json_object_object_foreach(resp, k, v) {
		fprintf(f, "%-*s", width, k);
		if (json_object_is_type(v, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(v); i++)
				fprintf(f, " %s", value_text(json_object_array_get_idx(v, i),
							     buf, sizeof(buf)));
		} else {
			fprintf(f, " %s", value_text(v, buf, sizeof(buf)));
		}
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

static const char *user_attr(struct json_object *o, const char *key)
{
	struct json_object *user, *v;

	if (!json_object_object_get_ex(o, "user", &user) ||
	    !json_object_object_get_ex(user, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The struct marked "top", or the only one. */
static struct json_object *top_struct(struct json_object *meta)
{
	struct json_object *found = NULL, *t;
	int n = 0;

	if (!json_object_is_type(meta, json_type_object))
		return NULL;
	json_object_object_foreach(meta, k, st) {
		(void)k;
		if (json_object_object_get_ex(st, "top", &t))
			return st;
		found = st;
		n++;
	}
	return n == 1 ? found : NULL;
}

/* A field whose "datum" is one of scx_stats' numeric types. */
static bool numeric_datum(struct json_object *field)
{
	static const char *const numeric[] = { "u64", "i64", "float" };
	struct json_object *type;
	const char *s;

	if (!json_object_object_get_ex(field, "datum", &type) ||
	    !json_object_is_type(type, json_type_string))
		return false;
	s = json_object_get_string(type);
	/* The length too: "u64\u0000x" is not "u64". */
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++)
		if (!strcmp(s, numeric[i]) &&
		    strlen(s) == (size_t)json_object_get_string_len(type))
			return true;
	return false;
}

static bool is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	       json_object_is_type(v, json_type_double);
}

/* The per-CPU list that belongs to field @name, if the reply has it. */
static struct json_object *percpu_list(struct json_object *fields,
				       struct json_object *resp, const char *name)
{
	struct json_object *list;

	json_object_object_foreach(fields, k, field) {
		const char *of = user_attr(field, "_percpu_of");

		if (of && !strcmp(of, name) &&
		    json_object_object_get_ex(resp, k, &list) &&
		    json_object_is_type(list, json_type_array))
			return list;
	}
	return NULL;
}

int cz_stats_om_collect(struct cz_om *om, struct json_object *meta,
			struct json_object *resp, const char *labels)
{
	struct json_object *st = top_struct(meta), *fields, *val, *desc, *list;
	const char *prefix;
	char name[256], buf[64], lab[1024];

	if (!st || !json_object_object_get_ex(st, "fields", &fields) ||
	    !json_object_is_type(fields, json_type_object) ||
	    !json_object_is_type(resp, json_type_object))
		return -1;
	prefix = user_attr(st, "_om_prefix");
	if (!prefix)
		prefix = "scx_";

	json_object_object_foreach(fields, fname, field) {
		const char *kind = user_attr(field, "_kind");
		const char *alias = user_attr(field, "_om_name");
		bool counter = kind && !strcmp(kind, "counter");

		/* Only numeric scalars; per-CPU lists go with their total. */
		if (!numeric_datum(field) ||
		    !json_object_object_get_ex(resp, fname, &val) || !is_number(val))
			continue;

		cz_om_name(name, sizeof(name), prefix, alias ? alias : fname);
		if (cz_om_family(om, name, counter ? CZ_OM_COUNTER : CZ_OM_GAUGE,
				 user_attr(field, "_unit"),
				 json_object_object_get_ex(field, "desc", &desc) &&
				 json_object_is_type(desc, json_type_string) ?
				 json_object_get_string(desc) : ""))
			return -1;
		list = percpu_list(fields, resp, fname);
		if (!list) {
			if (cz_om_sample(om, name, labels, value_text(val, buf, sizeof(buf))))
				return -1;
			continue;
		}
		for (size_t c = 0; c < json_object_array_length(list); c++) {
			struct json_object *v = json_object_array_get_idx(list, c);
			char cpu[24];

			if (!is_number(v))
				continue;
			snprintf(lab, sizeof(lab), "%s", labels ?: "");
			snprintf(cpu, sizeof(cpu), "%zu", c);
			cz_om_label(lab, sizeof(lab), "cpu", cpu);
			if (cz_om_sample(om, name, lab, value_text(v, buf, sizeof(buf))))
				return -1;
		}
	}
	return 0;
}

int cz_stats_print_openmetrics(FILE *f, struct json_object *meta,
			       struct json_object *resp)
{
	struct cz_om *om = cz_om_new();
	int ret = om ? cz_stats_om_collect(om, meta, resp, "") : -1;

	if (!ret)
		ret = cz_om_write(om, f, true);
	cz_om_free(om);
	return ret;
}
