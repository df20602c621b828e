/* jsonschema-map.c: a small open-addressing hash map for the compiler (URIs, anchors, nodes) */
#include <errno.h>
#include <stdlib.h>

#include "validate/jsonschema-internal.h"

static MapEntry *map_slot(const Map *m, const void *key, size_t len, uint64_t h)
{
        size_t i = h & (m->cap - 1);
        for (;;) {
                MapEntry *e = &m->slots[i];
                if (!e->key || (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0))
                        return e;
                i = (i + 1) & (m->cap - 1);
        }
}

void *map_get(const Map *m, const void *key, size_t len)
{
        if (m->cap == 0)
                return NULL;
        MapEntry *e = map_slot(m, key, len, hash_bytes(key, len));
        return e->key ? e->value : NULL;
}

void *map_gets(const Map *m, const char *key)
{
        return map_get(m, key, strlen(key));
}

/* map_put(): insert or replace; the key is copied. Return: 0 or -ENOMEM. */
int map_put(Map *m, const void *key, size_t len, void *value)
{
        uint64_t h = hash_bytes(key, len);
        MapEntry *e;

        if ((m->n + 1) * 2 > m->cap) {
                size_t cap = m->cap ? m->cap * 2 : 64;
                MapEntry *slots = calloc(cap, sizeof(MapEntry)), *old = m->slots;
                size_t old_cap = m->cap;
                if (!slots)
                        return -ENOMEM;
                m->slots = slots;
                m->cap = cap;
                for (size_t i = 0; i < old_cap; i++)
                        if (old[i].key)
                                *map_slot(m, old[i].key, old[i].len, old[i].hash) = old[i];
                free(old);
        }
        e = map_slot(m, key, len, h);
        if (!e->key) {
                e->key = malloc(len + 1);
                if (!e->key)
                        return -ENOMEM;
                memcpy(e->key, key, len);
                e->key[len] = 0;
                e->len = len;
                e->hash = h;
                m->n++;
        }
        e->value = value;
        return 0;
}

int map_puts(Map *m, const char *key, void *value)
{
        return map_put(m, key, strlen(key), value);
}

void map_done(Map *m)
{
        for (size_t i = 0; i < m->cap; i++)
                free(m->slots[i].key);
        free(m->slots);
        *m = (Map){};
}
