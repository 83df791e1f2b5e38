/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fields of the scheduler's struct_ops map, written before load through
 * the object's BTF by member name: the ops flags that come from common
 * options (SCX_OPS_SWITCH_PARTIAL for -p) and hotplug_seq. So loaders
 * never touch sched_ext_ops, and a member a kernel lacks is simply not
 * found instead of a build against that kernel's layout. Also what the
 * running kernel's BTF says it has (the cid form's ops, for --cgroup).
 */
#include <string.h>
#include <bpf/btf.h>
#include "cz_priv.h"

/* Locate @member of the struct_ops map's value through the object's BTF. */
static void *ops_member(struct bpf_object *obj, struct bpf_map *ops,
			const char *member, size_t *size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_type *t;
	const struct btf_member *m;
	size_t data_sz;
	char *data;

	if (!btf)
		return NULL;
	t = btf__type_by_id(btf, bpf_map__btf_value_type_id(ops));
	data = bpf_map__initial_value(ops, &data_sz);
	if (!t || !btf_is_struct(t) || !data)
		return NULL;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), member))
			continue;
		*size = btf__resolve_size(btf, m->type);
		if (btf_member_bit_offset(t, i) % 8 ||
		    btf_member_bit_offset(t, i) / 8 + *size > data_sz)
			return NULL;
		return data + btf_member_bit_offset(t, i) / 8;
	}
	return NULL;
}

int cz_ops_set_u64(struct bpf_object *obj, struct bpf_map *ops,
		   const char *member, u64 val, bool or_in)
{
	size_t size;
	void *p = ops_member(obj, ops, member, &size);
	u64 cur = 0;

	if (!p || size > sizeof(cur))
		return -1;
	memcpy(&cur, p, size);
	val = or_in ? cur | val : val;
	memcpy(p, &val, size);
	return 0;
}

struct bpf_map *cz_ops_map(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj)
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			return map;
	return NULL;
}

bool cz_kernel_has_btf_type(const char *name)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool has;

	if (!vmlinux)
		return false;
	has = btf__find_by_name_kind(vmlinux, name, BTF_KIND_STRUCT) > 0;
	btf__free(vmlinux);
	return has;
}
