/* registry-diff.c: what changed between two registries (a reload's log lines), and a registry's version
 *
 * Both work on the definitions as parsed, which registry-check.c left sorted
 * by id, and on the digest ini_section_apply() keeps of each section's
 * "key = value" pairs: a new key in any section type is covered without
 * touching this file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry-internal.h"
#include "util/strv.h"

const char *registry_kind_name(RegistryKind k)
{
        static const char *const names[_REGISTRY_KIND_MAX] = {
                [REGISTRY_KIND_INSTANCE] = "instance",    [REGISTRY_KIND_MEMBER] = "members",
                [REGISTRY_KIND_SUBSYSTEM] = "subsystems", [REGISTRY_KIND_SERVICE] = "services",
                [REGISTRY_KIND_GROUP] = "groups",         [REGISTRY_KIND_PURPOSE] = "purposes",
                [REGISTRY_KIND_RIGHT] = "rights",         [REGISTRY_KIND_NODE] = "nodes",
        };

        return k >= 0 && k < _REGISTRY_KIND_MAX ? names[k] : NULL;
}

/* RegistryKind follows the section types' order. */
_Static_assert((int)REGISTRY_KIND_INSTANCE == T_INSTANCE && (int)REGISTRY_KIND_RIGHT == T_RIGHT &&
                       (int)_REGISTRY_KIND_MAX == _T_MAX,
               "RegistryKind and the section types must match");

static int push(char ***list, size_t *n, const char *id)
{
        char **l = reallocarray(*list, *n + 2, sizeof(char *));

        if (!l)
                return -ENOMEM;
        *list = l;
        l[*n] = strdup(strempty(id));
        if (!l[*n])
                return -ENOMEM;
        l[++*n] = NULL;
        return 0;
}

/* One kind: walk both sorted lists together. */
static int diff_kind(size_t t, const DefVec *a, const DefVec *b, RegistryChanges *c, size_t *total)
{
        size_t i = 0, j = 0, na = 0, nr = 0, nc = 0;
        int r = 0;

        while (r == 0 && (i < a->n || j < b->n)) {
                int cmp = i >= a->n   ? 1
                          : j >= b->n ? -1
                                      : strcmp(strempty(def_id(t, a->items[i])), strempty(def_id(t, b->items[j])));
                if (cmp < 0)
                        r = push(&c->removed, &nr, def_id(t, a->items[i++]));
                else if (cmp > 0)
                        r = push(&c->added, &na, def_id(t, b->items[j++]));
                else {
                        if (def_sec(t, a->items[i])->digest != def_sec(t, b->items[j])->digest)
                                r = push(&c->changed, &nc, def_id(t, b->items[j]));
                        i++;
                        j++;
                }
        }
        *total += na + nr + nc;
        return r;
}

int registry_diff(const Registry *old, const Registry *new, RegistryDiff *ret)
{
        RegistryDiff d = {};

        for (size_t t = 0; t < _T_MAX; t++)
                if (diff_kind(t, &old->defs[t], &new->defs[t], &d.kinds[t], &d.n) < 0) {
                        registry_diff_done(&d);
                        return -ENOMEM;
                }
        *ret = d;
        return 0;
}

void registry_diff_done(RegistryDiff *d)
{
        for (size_t t = 0; t < _REGISTRY_KIND_MAX; t++) {
                strv_free(d->kinds[t].added);
                strv_free(d->kinds[t].removed);
                strv_free(d->kinds[t].changed);
        }
        *d = (RegistryDiff){};
}

uint64_t registry_version(const Registry *r)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t t = 0; t < _T_MAX; t++)
                for (size_t i = 0; i < r->defs[t].n; i++) {
                        void *def = r->defs[t].items[i];
                        uint64_t digest = def_sec(t, def)->digest;

                        h = (h ^ t) * 0x100000001b3ULL;
                        for (const char *p = strempty(def_id(t, def)); *p; p++)
                                h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
                        for (int k = 0; k < 8; k++)
                                h = (h ^ (uint8_t)(digest >> (8 * k))) * 0x100000001b3ULL;
                }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        return h ^ (h >> 33);
}
