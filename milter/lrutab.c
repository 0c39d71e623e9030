/*
 * lrutab.c - a chained hash table threaded on an LRU list (lrutab.h).
 */
#include <stdlib.h>

#include "relaymilter/lrutab.h"

static void
lru_unlink(struct rm_lru_tab *t, struct rm_lru_node *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		t->lru = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		t->mru = e->older;
	e->older = e->newer = NULL;
}

static void
lru_push(struct rm_lru_tab *t, struct rm_lru_node *e)
{
	e->older = t->mru;
	e->newer = NULL;
	if (t->mru != NULL)
		t->mru->newer = e;
	else
		t->lru = e;
	t->mru = e;
}

/* grow - double the buckets when the table holds more entries than them */
static void
grow(struct rm_lru_tab *t)
{
	struct rm_lru_node **nb, *e, *next;
	size_t n = t->buckets ? (t->mask + 1) * 2 : 64, i;

	if (t->buckets != NULL && t->n <= t->mask + 1)
		return;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return; /* chains just get longer */
	for (i = 0; t->buckets != NULL && i <= t->mask; i++)
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(t->buckets);
	t->buckets = nb;
	t->mask = n - 1;
}

struct rm_lru_node **
rm_lru_find(struct rm_lru_tab *t, unsigned h, rm_lru_eq *eq, const void *key)
{
	struct rm_lru_node **p;

	if (t->buckets == NULL)
		return NULL;
	for (p = &t->buckets[h & t->mask]; *p != NULL; p = &(*p)->next)
		if ((*p)->hash == h && eq(*p, key))
			return p;
	return p;
}

void
rm_lru_touch(struct rm_lru_tab *t, struct rm_lru_node *e)
{
	lru_unlink(t, e);
	lru_push(t, e);
}

int
rm_lru_insert(struct rm_lru_tab *t, struct rm_lru_node *e)
{
	grow(t);
	if (t->buckets == NULL)
		return -1;
	e->next = t->buckets[e->hash & t->mask];
	t->buckets[e->hash & t->mask] = e;
	lru_push(t, e);
	t->n++;
	return 0;
}

void
rm_lru_remove(struct rm_lru_tab *t, struct rm_lru_node **slot)
{
	struct rm_lru_node *e = *slot;

	*slot = e->next;
	lru_unlink(t, e);
	t->n--;
}
