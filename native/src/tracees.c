/* Traced threads by tid: open addressing with linear probing. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(const struct tracees *t, pid_t tid)
{
	return ((size_t)(uint32_t)tid * 2654435761u) & (t->cap - 1);
}

struct tracee *tt_find(struct tracees *t, pid_t tid)
{
	if (t->cap == 0)
		return NULL;
	for (size_t i = slot_of(t, tid);; i = (i + 1) & (t->cap - 1)) {
		struct tracee *e = t->slots[i];
		if (!e)
			return NULL;
		if (e->tid == tid)
			return e;
	}
}

static int grow(struct tracees *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	struct tracee **ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	struct tracees nt = {ns, ncap, 0};
	for (size_t i = 0; i < t->cap; i++) {
		struct tracee *e = t->slots[i];
		if (!e)
			continue;
		size_t j = slot_of(&nt, e->tid);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = e;
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
	return 0;
}

struct tracee *tt_add(struct tracees *t, pid_t tid)
{
	struct tracee *e = tt_find(t, tid);
	if (e)
		return e;
	if ((t->count + 1) * 2 > t->cap && grow(t) != 0)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->tid = tid;
	e->fd_dir = -1;
	size_t i = slot_of(t, tid);
	while (t->slots[i])
		i = (i + 1) & (t->cap - 1);
	t->slots[i] = e;
	t->count++;
	return e;
}

void tt_remove(struct tracees *t, pid_t tid)
{
	if (t->cap == 0)
		return;
	size_t i = slot_of(t, tid);
	while (t->slots[i] && t->slots[i]->tid != tid)
		i = (i + 1) & (t->cap - 1);
	struct tracee *e = t->slots[i];
	if (!e)
		return;
	fd_dir_close(e);
	free(e->call.in);
	free(e->call.out);
	free(e);
	t->slots[i] = NULL;
	t->count--;
	/* backward-shift the rest of the cluster so probes stay unbroken */
	for (size_t j = (i + 1) & (t->cap - 1); t->slots[j]; j = (j + 1) & (t->cap - 1)) {
		struct tracee *m = t->slots[j];
		size_t home = slot_of(t, m->tid);
		/* move m into the hole at i if its home is not in (i, j] cyclically */
		int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!between) {
			t->slots[i] = m;
			t->slots[j] = NULL;
			i = j;
		}
	}
}

void tt_free(struct tracees *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i]) {
			fd_dir_close(t->slots[i]);
			free(t->slots[i]->call.in);
			free(t->slots[i]->call.out);
			free(t->slots[i]);
		}
	}
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
