/* jsonschema-errors.c: the error list a validation fills, and how a failed keyword is reported into it */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/error.h"
#include "validate/jsonschema-internal.h"

/* ---- errors ---- */

void json_schema_errors_init(JsonSchemaErrors *errs, size_t max)
{
        *errs = (JsonSchemaErrors){ .max = max == 0 ? JSON_SCHEMA_DEFAULT_MAX_ERRORS
                                                    : MIN(max, (size_t)JSON_SCHEMA_CAP_MAX_ERRORS) };
}

void json_schema_errors_clear(JsonSchemaErrors *errs)
{
        for (size_t i = 0; i < errs->n; i++) {
                free(errs->items[i].instance_location);
                free(errs->items[i].keyword_location);
                free(errs->items[i].message);
        }
        free(errs->items);
        errs->items = NULL;
        errs->n = 0;
        errs->truncated = false;
}

static char *path_render(const Ctx *c)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (unsigned i = 0; i < c->path_len; i++) {
                const PathSeg *p = &c->path[i];
                fputc('/', f);
                if (!p->key)
                        fprintf(f, "%zu", p->len_or_index);
                else
                        for (size_t k = 0; k < p->len_or_index; k++) {
                                if (p->key[k] == '~')
                                        fputs("~0", f);
                                else if (p->key[k] == '/')
                                        fputs("~1", f);
                                else
                                        fputc(p->key[k], f);
                        }
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

void ctx_set_fatal(Ctx *c, int r, const char *msg)
{
        if (c->fatal)
                return;
        c->fatal = r;
        c->fatal_msg = msg;
        c->fatal_path = c->errs ? path_render(c) : NULL;
}

/* Appends an error; `n` may be NULL for limit errors. */
void ctx_errors_add(Ctx *c, char *instance_location, char *keyword_location, char *message)
{
        JsonSchemaErrors *e = c->errs;

        if (!instance_location || !keyword_location || !message)
                goto fail;
        if (!e->items) {
                e->items = calloc(e->max, sizeof(JsonSchemaError));
                if (!e->items)
                        goto fail;
        }
        e->items[e->n++] = (JsonSchemaError){ instance_location, keyword_location, message };
        return;
fail:
        free(instance_location);
        free(keyword_location);
        free(message);
        ctx_set_fatal(c, -ENOMEM, "out of memory");
}

void ctx_report(Ctx *c, const Node *n, const char *kw, const char *fmt, ...)
{
        char *msg = NULL, *kwloc = NULL;
        va_list ap;

        if (!c->collect)
                return;
        if (c->errs->n >= c->errs->max) {
                c->errs->truncated = true;
                c->collect = false; /* nothing more can be kept: finish in the fast mode */
                return;
        }
        va_start(ap, fmt);
        msg = error_vformat(fmt, ap);
        va_end(ap);
        if (kw) {
                if (asprintf(&kwloc, "%s#%s/%s", n->doc_uri, n->location, kw) < 0)
                        kwloc = NULL;
        } else if (asprintf(&kwloc, "%s#%s", n->doc_uri, n->location) < 0)
                kwloc = NULL;
        ctx_errors_add(c, path_render(c), kwloc, msg);
}
