/* jsontext.c: JSON text written and read without a jansson tree (jsontext.h says which and why) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsontext.h"
#include "util/macro.h"
#include "util/utf8.h"

/* ---- writing ------------------------------------------------------------------------------------ */

static bool text_reserve(JsonText *t, size_t n)
{
        size_t cap;
        char *b;

        if (t->failed)
                return false;
        if (t->len + n + 1 <= t->cap)
                return true;
        cap = MAX(t->cap * 2, MAX(t->len + n + 1, (size_t)1024));
        b = realloc(t->buf, cap);
        if (!b) {
                t->failed = true;
                return false;
        }
        t->buf = b;
        t->cap = cap;
        return true;
}

void jsontext_raw(JsonText *t, const char *s, size_t n)
{
        if (!text_reserve(t, n))
                return;
        memcpy(t->buf + t->len, s, n);
        t->len += n;
}

/* A ',' before a value or key unless it opens its object or array, or follows its key. */
static void separate(JsonText *t)
{
        if (t->len > 0 && !strchr("{[:", t->buf[t->len - 1]))
                jsontext_raw(t, ",", 1);
}

static void put_escaped(JsonText *t, const char *s, size_t n)
{
        static const char shortcuts[0x20] = { ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't' };
        size_t run = 0;

        jsontext_raw(t, "\"", 1);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                char esc[8];

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                jsontext_raw(t, s + run, i - run);
                run = i + 1;
                if (c == '"' || c == '\\')
                        snprintf(esc, sizeof(esc), "\\%c", c);
                else if (shortcuts[c])
                        snprintf(esc, sizeof(esc), "\\%c", shortcuts[c]);
                else
                        snprintf(esc, sizeof(esc), "\\u%04X", c);
                jsontext_raw(t, esc, strlen(esc));
        }
        jsontext_raw(t, s + run, n - run);
        jsontext_raw(t, "\"", 1);
}

void jsontext_key(JsonText *t, const char *key)
{
        separate(t);
        put_escaped(t, key, strlen(key));
        jsontext_raw(t, ":", 1);
}

void jsontext_string(JsonText *t, const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (!s || !utf8_valid(s, n)) {
                t->failed = true;
                return;
        }
        separate(t);
        put_escaped(t, s, n);
}

void jsontext_integer(JsonText *t, int64_t v)
{
        char num[24];

        separate(t);
        jsontext_raw(t, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, v));
}

char *jsontext_finish(JsonText *t, size_t *ret_len)
{
        char *text = NULL;

        if (text_reserve(t, 0)) {
                t->buf[t->len] = 0;
                text = t->buf;
                if (ret_len)
                        *ret_len = t->len;
        } else
                free(t->buf);
        *t = JSONTEXT_INIT;
        return text;
}

/* ---- reading ------------------------------------------------------------------------------------ */

/* The bytes being read, and where the decoded strings go (never longer than their JSON text). */
typedef struct Reader {
        const char *p, *end;
        char *out;
} Reader;

static void skip_ws(Reader *r)
{
        while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
                r->p++;
}

static bool take(Reader *r, char c)
{
        skip_ws(r);
        if (r->p >= r->end || *r->p != c)
                return false;
        r->p++;
        return true;
}

static int hex4(const char *p, const char *end, uint32_t *ret)
{
        uint32_t v = 0;

        if (end - p < 4)
                return -EBADMSG;
        for (int i = 0; i < 4; i++) {
                char c = p[i];
                if (c >= '0' && c <= '9')
                        v = v * 16 + (uint32_t)(c - '0');
                else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                        v = v * 16 + (uint32_t)((c | 0x20) - 'a' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static void put_utf8(Reader *r, uint32_t cp)
{
        if (cp < 0x80)
                *r->out++ = (char)cp;
        else if (cp < 0x800) {
                *r->out++ = (char)(0xc0 | cp >> 6);
                *r->out++ = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
                *r->out++ = (char)(0xe0 | cp >> 12);
                *r->out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *r->out++ = (char)(0x80 | (cp & 0x3f));
        } else {
                *r->out++ = (char)(0xf0 | cp >> 18);
                *r->out++ = (char)(0x80 | ((cp >> 12) & 0x3f));
                *r->out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *r->out++ = (char)(0x80 | (cp & 0x3f));
        }
}

/* A \uXXXX escape (and its low surrogate) at r->p, just past the 'u'. */
static int read_unicode(Reader *r)
{
        uint32_t cp, lo;

        if (hex4(r->p, r->end, &cp) < 0)
                return -EBADMSG;
        r->p += 4;
        if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
                return -EBADMSG; /* NUL: the callers want C strings; a lone low surrogate: not text */
        if (cp >= 0xd800 && cp <= 0xdbff) {
                if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, r->end, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff)
                        return -EBADMSG;
                r->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        put_utf8(r, cp);
        return 0;
}

/* A string at r->p (after white space), decoded to r->out and NUL-terminated; its start in *ret. */
static int read_string(Reader *r, const char **ret, size_t *ret_len)
{
        static const char unescape[128] = { ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
                                            ['f'] = '\f', ['n'] = '\n',  ['r'] = '\r', ['t'] = '\t' };
        char *start = r->out;

        if (!take(r, '"'))
                return -EBADMSG;
        for (;;) {
                const char *run = r->p;
                unsigned char c;

                while (r->p < r->end && (unsigned char)*r->p >= 0x20 && *r->p != '"' && *r->p != '\\')
                        r->p++;
                memcpy(r->out, run, (size_t)(r->p - run));
                r->out += r->p - run;
                if (r->p >= r->end)
                        return -EBADMSG;
                c = (unsigned char)*r->p++;
                if (c == '"')
                        break;
                if (c != '\\' || r->p >= r->end)
                        return -EBADMSG; /* a raw control character */
                c = (unsigned char)*r->p++;
                if (c == 'u') {
                        if (read_unicode(r) < 0)
                                return -EBADMSG;
                } else if (c < 128 && unescape[c])
                        *r->out++ = unescape[c];
                else
                        return -EBADMSG;
        }
        if (!utf8_valid(start, (size_t)(r->out - start)))
                return -EBADMSG;
        *r->out++ = 0;
        *ret = start;
        *ret_len = (size_t)(r->out - start - 1);
        return 0;
}

/* The member `key` (`n` bytes) of the members read so far: lengths first, most keys differ in length. */
static const JsonTextMember *member_find(const JsonTextFlat *f, const char *key, size_t n)
{
        for (size_t i = 0; i < f->n_members; i++)
                if (f->members[i].key_length == n && memcmp(f->members[i].key, key, n) == 0)
                        return &f->members[i];
        return NULL;
}

/* -?(0|[1-9][0-9]{0,17}), not followed by a fraction or an exponent. */
static int read_integer(Reader *r, int64_t *ret)
{
        bool neg = r->p < r->end && *r->p == '-';
        const char *digits = r->p + neg;
        int64_t v = 0;
        size_t n = 0;

        while (digits + n < r->end && digits[n] >= '0' && digits[n] <= '9')
                v = v * 10 + (digits[n++] - '0');
        if (n == 0 || n > 18 || (n > 1 && digits[0] == '0'))
                return -EBADMSG;
        r->p = digits + n;
        if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
                return -EBADMSG;
        *ret = neg ? -v : v;
        return 0;
}

/* [[string, string], ...]: the strings one after the other in r->out. */
static int read_pairs(Reader *r, JsonTextMember *m)
{
        const char *s;
        size_t len;

        m->type = JSONTEXT_PAIRS;
        m->string = r->out;
        if (!take(r, '['))
                return -EBADMSG;
        if (take(r, ']'))
                return 0;
        do {
                if (!take(r, '[') || read_string(r, &s, &len) < 0 || !take(r, ',') || read_string(r, &s, &len) < 0 ||
                    !take(r, ']'))
                        return -EBADMSG;
                m->n_pairs++;
        } while (take(r, ','));
        return take(r, ']') ? 0 : -EBADMSG;
}

static int read_value(Reader *r, JsonTextMember *m)
{
        skip_ws(r);
        if (r->p >= r->end)
                return -EBADMSG;
        if (*r->p == '"') {
                m->type = JSONTEXT_STRING;
                return read_string(r, &m->string, &m->length);
        }
        if (*r->p == '[')
                return read_pairs(r, m);
        m->type = JSONTEXT_INTEGER;
        return read_integer(r, &m->integer);
}

int jsontext_flat_parse(const void *data, size_t size, JsonTextFlat *ret)
{
        JsonTextFlat f = {};
        Reader r = { .p = data, .end = (const char *)data + size };

        /* every decoded string is at most as long as its JSON text, which has room for its NUL (a quote) */
        f.text = malloc(size + 1);
        if (!f.text)
                return -ENOMEM;
        r.out = f.text;
        if (!take(&r, '{'))
                goto declined;
        if (!take(&r, '}')) {
                do {
                        JsonTextMember *m = &f.members[f.n_members];
                        if (f.n_members >= JSONTEXT_MAX_MEMBERS || read_string(&r, &m->key, &m->key_length) < 0 ||
                            member_find(&f, m->key, m->key_length) || !take(&r, ':') || read_value(&r, m) < 0)
                                goto declined;
                        f.n_members++;
                } while (take(&r, ','));
                if (!take(&r, '}'))
                        goto declined;
        }
        skip_ws(&r);
        if (r.p != r.end)
                goto declined;
        *ret = f;
        return 0;
declined:
        free(f.text);
        return -EBADMSG;
}

void jsontext_flat_done(JsonTextFlat *f)
{
        free(f->text);
        *f = (JsonTextFlat){};
}

const JsonTextMember *jsontext_flat_get(const JsonTextFlat *f, const char *key)
{
        return member_find(f, key, strlen(key));
}

const char *jsontext_pair_next(const char *s)
{
        return s + strlen(s) + 1;
}
