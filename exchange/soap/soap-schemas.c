/* soap-schemas.c: compile the services' SOAP XSDs at registry load */
#include <errno.h>
#include <stdio.h>

#include "soap/soap-schemas.h"
#include "util/embedded.h"
#include "util/error.h"
#include "util/fileio.h"

typedef struct Entry {
        char *service;
        XsdSchema *request, *response;
} Entry;

struct SoapSchemas {
        Entry *items;
        size_t n;
};

SoapSchemas *soap_schemas_free(SoapSchemas *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n; i++) {
                free(s->items[i].service);
                xsd_schema_free(s->items[i].request);
                xsd_schema_free(s->items[i].response);
        }
        free(s->items);
        free(s);
        return NULL;
}

/* Read `path`: 0 with text, -ENOENT when absent, -errno. */
static int read_source(const char *path, bool embedded, char **ret, size_t *ret_size)
{
        if (embedded) {
                const EmbeddedFile *f = embedded_find(path);
                if (!f)
                        return -ENOENT;
                if (f->size > SOAP_SCHEMA_FILE_MAX)
                        return -EFBIG;
                *ret = malloc(f->size + 1);
                if (!*ret)
                        return -ENOMEM;
                memcpy(*ret, f->data, f->size + 1);
                *ret_size = f->size;
                return 0;
        }
        return read_full_file(path, SOAP_SCHEMA_FILE_MAX, ret, ret_size);
}

static int compile(const char *path, bool embedded, XsdSchema **ret, char **ret_error)
{
        _cleanup_free_ char *text = NULL, *why = NULL;
        size_t size = 0;
        int r;

        r = read_source(path, embedded, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return error_set(ret_error, r, "cannot read '%s': %s", path, strerror(-r));
        /* no base path: SOAP schemas are self-contained, an include finds nothing */
        r = xsd_schema_new(ret, text, size, NULL, NULL, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_set(ret_error, -EINVAL, "'%s' refused: %s", path, why ? why : strerror(-r));
        return 0;
}

/* The subsystem and service codes of "I/C/M/SUBSYSTEM/SERVICE": 0, or -EINVAL. */
static int split_id(const char *id, char *subsystem, size_t ss, char *service, size_t sv)
{
        const char *p = id, *slash[4];

        for (size_t i = 0; i < 4; i++) {
                slash[i] = strchr(p, '/');
                if (!slash[i])
                        return -EINVAL;
                p = slash[i] + 1;
        }
        if (strchr(p, '/') || !*p || (size_t)(slash[3] - slash[2] - 1) >= ss || strlen(p) >= sv ||
            slash[3] == slash[2] + 1)
                return -EINVAL;
        memcpy(subsystem, slash[2] + 1, (size_t)(slash[3] - slash[2] - 1));
        subsystem[slash[3] - slash[2] - 1] = 0;
        strcpy(service, p);
        if (strstr(subsystem, "..") || strstr(service, ".."))
                return -EINVAL;
        return 0;
}

int soap_schemas_load(SoapSchemas **ret, const Registry *reg, const char *root, bool embedded, char **ret_error)
{
        _cleanup_(soap_schemas_freep) SoapSchemas *s = NULL;
        const RegistryService *const *services;
        size_t n;
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (!ret || !reg || isempty(root))
                return -EINVAL;
        n = registry_services(reg, &services);
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->items = calloc(MAX(n, 1U), sizeof(Entry));
        if (!s->items)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char subsystem[128], code[128];
                _cleanup_free_ char *req_path = NULL, *resp_path = NULL;
                Entry e = {};

                if (split_id(services[i]->id, subsystem, sizeof(subsystem), code, sizeof(code)) < 0)
                        continue;
                if (asprintf(&req_path, "%s/soap/%s/%s.request.xsd", root, subsystem, code) < 0 ||
                    asprintf(&resp_path, "%s/soap/%s/%s.response.xsd", root, subsystem, code) < 0)
                        return -ENOMEM;
                r = compile(req_path, embedded, &e.request, ret_error);
                if (r < 0)
                        return r;
                if (!e.request)
                        continue;
                r = compile(resp_path, embedded, &e.response, ret_error);
                if (r >= 0 && !(e.service = strdup(services[i]->id)))
                        r = -ENOMEM;
                if (r < 0) {
                        xsd_schema_free(e.request);
                        xsd_schema_free(e.response);
                        return r;
                }
                s->items[s->n++] = e;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

bool soap_schemas_lookup(const SoapSchemas *s, const char *service_id, const XsdSchema **ret_request,
                         const XsdSchema **ret_response)
{
        if (!s || !service_id)
                return false;
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->items[i].service, service_id)) {
                        if (ret_request)
                                *ret_request = s->items[i].request;
                        if (ret_response)
                                *ret_response = s->items[i].response;
                        return true;
                }
        return false;
}

size_t soap_schemas_count(const SoapSchemas *s)
{
        return s ? s->n : 0;
}
