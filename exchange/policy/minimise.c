/* minimise.c: keep only the members of an answer that an access right lists */
#include <errno.h>
#include <stdio.h>

#include "policy/minimise.h"

/*
 * The value at JSON pointer `ptr` in `doc` (object members only: arrays are
 * kept whole). Objects on the way are created in `out` (unless NULL); *ret_parent
 * is the object of `out` where the value belongs and `last` its member name.
 * Return: the value (borrowed), or NULL when the pointer selects nothing.
 */
static json_t *pointer_get(json_t *doc, const char *ptr, json_t *out, json_t **ret_parent, char *last, size_t last_size)
{
        json_t *cur = doc, *ocur = out;
        const char *p = ptr;

        while (*p == '/') {
                char seg[256];
                size_t n = 0;

                for (p++; *p && *p != '/' && n < sizeof(seg) - 1; p++) {
                        if (*p == '~' && (p[1] == '0' || p[1] == '1')) {
                                seg[n++] = p[1] == '0' ? '~' : '/';
                                p++;
                        } else
                                seg[n++] = *p;
                }
                seg[n] = 0;
                if (!json_is_object(cur))
                        return NULL;
                cur = json_object_get(cur, seg);
                if (!cur)
                        return NULL;
                if (!out)
                        continue;
                if (*p == '/') {
                        json_t *next = json_object_get(ocur, seg);
                        if (!next) {
                                next = json_object();
                                if (!next || json_object_set_new(ocur, seg, next) < 0)
                                        return NULL;
                        }
                        ocur = next;
                } else if (!*p) {
                        snprintf(last, last_size, "%s", seg);
                        *ret_parent = ocur;
                }
        }
        return cur;
}

json_t *minimise_pointer_get(json_t *doc, const char *ptr)
{
        return pointer_get(doc, ptr, NULL, NULL, NULL, 0);
}

int minimise(json_t *doc, char *const *fields, char **ret)
{
        json_t *out;
        char *text;

        if (!json_is_object(doc))
                return -EINVAL;
        out = json_object();
        if (!out)
                return -ENOMEM;
        for (char *const *f = fields; *f; f++) {
                json_t *parent = NULL, *v;
                char last[256] = "";

                v = pointer_get(doc, *f, out, &parent, last, sizeof(last));
                if (v && parent && json_object_set(parent, last, v) < 0) {
                        json_decref(out);
                        return -ENOMEM;
                }
        }
        text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(out);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}
