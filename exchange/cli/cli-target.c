/* cli-target.c: parsing SERVICE[/path][?query] and building the /r1 URL */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli-target.h"
#include "util/bytes.h"
#include "util/macro.h"

void cli_target_done(CliTarget *t)
{
        free(t->service);
        free(t->path);
        free(t->query);
        *t = (CliTarget){};
}

static const char *refuse(const char **ret_reason, const char *reason)
{
        if (ret_reason)
                *ret_reason = reason;
        return reason;
}

int cli_target_parse(const char *text, CliTarget *ret, const char **ret_reason)
{
        _cleanup_free_ char *service = NULL, *path = NULL, *query = NULL;
        const char *q, *p;
        size_t n, service_len;
        unsigned segments = 0;

        if (isempty(text)) {
                refuse(ret_reason, "the service is empty");
                return -EINVAL;
        }
        n = strlen(text);
        if (n > CLI_TARGET_MAX) {
                refuse(ret_reason, "the service, path and query are too long");
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)text[i];
                if (c < 0x20 || c == 0x7f) {
                        refuse(ret_reason, "control characters are not allowed");
                        return -EINVAL;
                }
                if (c == '#') {
                        refuse(ret_reason, "a '#' (fragment) is not allowed");
                        return -EINVAL;
                }
        }
        if (text[0] == '/') {
                refuse(ret_reason, "the service id starts with INSTANCE, not '/' (e.g. VN/GOV/BCA/population/citizen)");
                return -EINVAL;
        }

        q = strchr(text, '?');
        if (!q)
                q = text + n;

        /* the service id: five non-empty segments before the path */
        p = text;
        for (;;) {
                const char *end = p;
                while (end < q && *end != '/')
                        end++;
                if (end == p) {
                        refuse(ret_reason, "the service id has an empty segment "
                                           "(INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE)");
                        return -EINVAL;
                }
                segments++;
                p = end;
                if (segments == CLI_TARGET_SERVICE_SEGMENTS || p == q)
                        break;
                p++; /* the '/' */
        }
        if (segments < CLI_TARGET_SERVICE_SEGMENTS) {
                refuse(ret_reason, "the service id needs five segments (INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE)");
                return -EINVAL;
        }
        service_len = (size_t)(p - text);

        service = strndup(text, service_len);
        path = strndup(p, (size_t)(q - p));
        query = strdup(*q ? q + 1 : "");
        if (!service || !path || !query)
                return -ENOMEM;
        *ret = (CliTarget){
                .service = TAKE_PTR(service),
                .path = TAKE_PTR(path),
                .query = TAKE_PTR(query),
        };
        return 0;
}

static bool is_unreserved(unsigned char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~';
}

enum {
        PART_SEGMENT, /* a service id segment: unreserved only */
        PART_PATH,    /* pchar and '/' (RFC 3986 3.3) */
        PART_QUERY,   /* pchar, '/' and '?' (RFC 3986 3.4) */
};

static void encode(FILE *f, const char *s, size_t n, int part)
{
        static const char hex[] = "0123456789ABCDEF";

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                bool keep = is_unreserved(c);

                if (!keep && part != PART_SEGMENT) {
                        keep = c != 0 && strchr("!$&'()*+,;=:@/", c) != NULL;
                        if (part == PART_QUERY && c == '?')
                                keep = true;
                        /* an escape already there stays as it is */
                        if (c == '%' && i + 2 < n && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0)
                                keep = true;
                }
                if (keep)
                        fputc(c, f);
                else
                        fprintf(f, "%%%c%c", hex[c >> 4], hex[c & 15]);
        }
}

int cli_target_url(const char *base_url, const CliTarget *t, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, base_len;
        const char *p;
        FILE *f;

        if (!base_url || !t || !t->service || !t->path || !t->query)
                return -EINVAL;
        if (strncmp(base_url, "https://", 8) != 0 && strncmp(base_url, "http://", 7) != 0)
                return -EINVAL;
        base_len = strlen(base_url);
        while (base_len > 0 && base_url[base_len - 1] == '/')
                base_len--;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fwrite(base_url, 1, base_len, f);
        fputs("/r1", f);
        p = t->service;
        while (*p) {
                size_t seg = strcspn(p, "/");
                fputc('/', f);
                encode(f, p, seg, PART_SEGMENT);
                p += seg;
                if (*p == '/')
                        p++;
        }
        encode(f, t->path, strlen(t->path), PART_PATH);
        if (t->query[0]) {
                fputc('?', f);
                encode(f, t->query, strlen(t->query), PART_QUERY);
        }
        if (fclose(f) != 0 || !buf)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}
