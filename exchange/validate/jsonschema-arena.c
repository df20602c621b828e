/* jsonschema-arena.c: the compiled schema's memory, allocated in chunks and freed at once */
#include <stdlib.h>

#include "validate/jsonschema-internal.h"

struct ArenaChunk {
        struct ArenaChunk *next;
        size_t used, size;
        max_align_t data[];
};

void *arena_alloc(Arena *a, size_t size)
{
        ArenaChunk *c = a->head;
        void *p;

        size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
        if (!c || c->size - c->used < size) {
                size_t chunk = MAX(size, (size_t)KIB(16));
                c = malloc(sizeof(ArenaChunk) + chunk);
                if (!c)
                        return NULL;
                c->size = chunk;
                c->used = 0;
                c->next = a->head;
                a->head = c;
        }
        p = (char *)c->data + c->used;
        c->used += size;
        memset(p, 0, size);
        return p;
}

char *arena_strndup(Arena *a, const char *s, size_t len)
{
        char *p = arena_alloc(a, len + 1);
        if (p) {
                memcpy(p, s, len);
                p[len] = 0;
        }
        return p;
}

char *arena_strdup(Arena *a, const char *s)
{
        return arena_strndup(a, s, strlen(s));
}

void arena_done(Arena *a)
{
        while (a->head) {
                ArenaChunk *c = a->head;
                a->head = c->next;
                free(c);
        }
}
