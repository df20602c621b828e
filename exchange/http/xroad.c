/* xroad.c: the X-Road REST wire rules: identifiers in headers, the request hash, header deny-lists, the Accept rule */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/hash.h"
#include "http/xroad.h"
#include "util/bytes.h"
#include "util/macro.h"
#include "util/utf8.h"

/* Printable UTF-8: no control characters (tab included), valid sequences. */
static bool printable(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return utf8_valid(s, n);
}

int xroad_id_decode(const char *value, unsigned min_parts, unsigned max_parts, char *out, size_t size)
{
        const char *p = value;
        unsigned parts = 0;
        size_t n = 0;

        if (!value || size == 0)
                return -EINVAL;
        for (;;) {
                size_t len = strcspn(p, "/");
                char part[XROAD_ID_MAX + 1];
                ssize_t k = len <= XROAD_ID_MAX ? percent_decode(p, len, part) : -EINVAL;
                bool raw;

                if (k <= 0 || !printable(part, (size_t)k) || ++parts > max_parts)
                        return -EINVAL;
                raw = memchr(part, '/', (size_t)k) != NULL;
                if (n + (parts > 1) + (raw ? len : (size_t)k) >= size)
                        return -EINVAL;
                if (parts > 1)
                        out[n++] = '/';
                memcpy(out + n, raw ? p : part, raw ? len : (size_t)k);
                n += raw ? len : (size_t)k;
                p += len;
                if (!*p)
                        break;
                p++; /* the '/' */
        }
        out[n] = 0;
        return parts >= min_parts ? (int)parts : -EINVAL;
}

int xroad_id_encode(const char *id, char *out, size_t size)
{
        static const char keep[] = "-._~!$&'()*+,;=:@/";
        size_t n = 0;

        for (const unsigned char *c = (const unsigned char *)id; *c; c++) {
                bool plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                             strchr(keep, *c);
                if (n + (plain ? 1 : 3) >= size)
                        return -E2BIG;
                if (plain)
                        out[n++] = (char)*c;
                else
                        n += (size_t)snprintf(out + n, size - n, "%%%02X", *c);
        }
        if (n >= size)
                return -E2BIG;
        out[n] = 0;
        return 0;
}

bool xroad_represented_party_valid(const char *value)
{
        char buf[XROAD_ID_MAX + 1];

        return xroad_id_decode(value, 1, 2, buf, sizeof(buf)) > 0;
}

/* --- headers --------------------------------------------------------------- */

static bool name_in(const char *name, const char *const *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcasecmp(name, list[i]) == 0)
                        return true;
        return false;
}

static bool has_prefix(const char *name, const char *prefix)
{
        return strncasecmp(name, prefix, strlen(prefix)) == 0;
}

bool xroad_header_filtered(const char *name)
{
        static const char *const filtered[] = {
                "Connection",
                "Keep-Alive",
                "Proxy-Authenticate",
                "Proxy-Authorization",
                "TE",
                "Trailer",
                "Transfer-Encoding",
                "Upgrade",
                "Host",
                "User-Agent",
                "Server",
                "Content-Length",
                "Expect",
        };

        return name_in(name, filtered, ELEMENTSOF(filtered));
}

bool xroad_header_to_provider(const char *name)
{
        static const char *const node_set[] = { "X-Road-Request-Id", "X-Road-Request-Hash", "X-Road-Client",
                                                "X-GovStack-Client" };

        return !xroad_header_filtered(name) && !name_in(name, node_set, ELEMENTSOF(node_set)) &&
               !has_prefix(name, "X-Bus-");
}

bool xroad_header_to_client(const char *name)
{
        return !xroad_header_filtered(name) && strcasecmp(name, "Content-Type") != 0 && !has_prefix(name, "X-Road-") &&
               !has_prefix(name, "X-Bus-");
}

/* --- the Accept rule --------------------------------------------------------- */

/* The media type of one Accept entry [s, s+n): without parameters and white space, lower-case. */
static void entry_media(const char *s, size_t n, char *out, size_t size)
{
        size_t len = strcspn(s, ";");
        size_t k = 0;

        if (len > n)
                len = n;
        while (len > 0 && (*s == ' ' || *s == '\t')) {
                s++;
                len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        for (; k < len && k + 1 < size; k++)
                out[k] = (char)((s[k] >= 'A' && s[k] <= 'Z') ? s[k] - 'A' + 'a' : s[k]);
        out[k] = 0;
        if (len >= size)
                out[0] = 0; /* too long to be one we look for */
}

XroadErrorFormat xroad_error_format(const char *const *accept, size_t n, char *ret_media)
{
        char media[XROAD_ERROR_MEDIA_MAX + 1] = "", first_xml[XROAD_ERROR_MEDIA_MAX + 1] = "";

        for (size_t i = 0; i < n; i++)
                for (const char *p = accept[i]; p && *p;) {
                        size_t len = strcspn(p, ",");

                        entry_media(p, len, media, sizeof(media));
                        if (streq(media, "application/problem+json"))
                                return XROAD_ERRORS_PROBLEM;
                        if (!first_xml[0] &&
                            (streq(media, "text/xml") || streq(media, "application/xml") || streq(media, "text/*")))
                                strcpy(first_xml, streq(media, "text/*") ? "text/xml" : media);
                        p += len + (p[len] == ',');
                }
        if (!first_xml[0])
                return XROAD_ERRORS_JSON;
        if (ret_media)
                strcpy(ret_media, first_xml);
        return XROAD_ERRORS_XML;
}

/* --- the request hash ---------------------------------------------------------- */

/* A header value without the white space around it (RFC 9110 OWS: spaces and tabs). */
static void put_value(FILE *f, const char *v)
{
        size_t n;

        while (*v == ' ' || *v == '\t')
                v++;
        n = strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
        fwrite(v, 1, n, f);
}

int xroad_request_hash(const XroadHashInput *in, char *out, char **ret_canonical)
{
        _cleanup_free_ char *h = NULL;
        uint8_t d[2 * HASH_SHA512_LEN], both[HASH_SHA512_LEN];
        size_t size = 0;
        FILE *f;

        f = open_memstream(&h, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s\r\n%s\r\n", in->method, in->target);
        for (size_t i = 0; i < in->n_headers; i++) {
                const XroadHeader *hd = &in->headers[i];
                if (xroad_header_filtered(hd->name) || strcasecmp(hd->name, "X-Road-Request-Id") == 0 ||
                    strcasecmp(hd->name, "X-Road-Request-Hash") == 0)
                        continue;
                fprintf(f, "%s:", hd->name);
                put_value(f, hd->value);
                fputs("\r\n", f);
        }
        fprintf(f, "x-road-request-id:%s\r\n", in->request_id);
        if (in->generated_id)
                fprintf(f, "x-road-id:%s\r\n", in->generated_id);
        if (fclose(f) != 0 || !h)
                return -ENOMEM;

        hash_sha512(h, size, d);
        if (in->body && in->body_size > 0) {
                hash_sha512(in->body, in->body_size, d + HASH_SHA512_LEN);
                hash_sha512(d, sizeof(d), both);
                memcpy(d, both, sizeof(both));
        }
        b64_encode(d, HASH_SHA512_LEN, out);
        if (ret_canonical)
                *ret_canonical = TAKE_PTR(h);
        return 0;
}
