/* ini.c: INI-style configuration files (systemd-unit-like), value parsers and key tables */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"
#include "util/ini.h"
#include "util/parse.h"
#include "util/utf8.h"

/* ---- Error sink ---------------------------------------------------------------------------- */

void ini_errors_add(IniErrors *e, const char *file, unsigned line, const char *fmt, ...)
{
        va_list ap;
        IniError *err;
        char *msg = NULL, *f;

        e->n_total++;
        if (e->n_errors >= INI_ERRORS_MAX)
                return;

        if (e->n_errors == e->n_allocated) {
                size_t n = e->n_allocated ? e->n_allocated * 2 : 16;
                IniError *a = reallocarray(e->errors, n, sizeof(*a));
                if (!a) {
                        e->oom = true;
                        return;
                }
                e->errors = a;
                e->n_allocated = n;
        }

        va_start(ap, fmt);
        msg = error_vformat(fmt, ap);
        va_end(ap);
        f = strdup(strempty(file));
        if (!msg || !f) {
                free(msg);
                free(f);
                e->oom = true;
                return;
        }

        err = &e->errors[e->n_errors];
        err->file = f;
        err->line = line;
        err->message = msg;
        err->seq = e->n_errors;
        e->n_errors++;
}

static int error_compare(const void *a, const void *b)
{
        const IniError *x = a, *y = b;
        int c = strcmp(x->file, y->file);

        if (c != 0)
                return c;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int ini_errors_to_string(IniErrors *e, char **ret)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (e->oom)
                return -ENOMEM;

        if (e->n_errors > 1)
                qsort(e->errors, e->n_errors, sizeof(IniError), error_compare);

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < e->n_errors; i++)
                fprintf(f, "%s:%u: %s\n", e->errors[i].file, e->errors[i].line, e->errors[i].message);
        if (e->n_total > e->n_errors)
                fprintf(f, "... and %zu more errors\n", e->n_total - e->n_errors);
        if (ferror(f) || fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

void ini_errors_done(IniErrors *e)
{
        for (size_t i = 0; i < e->n_errors; i++) {
                free(e->errors[i].file);
                free(e->errors[i].message);
        }
        free(e->errors);
        *e = (IniErrors){};
}

/* ---- Parser -------------------------------------------------------------------------------- */

/* Return: NULL when the line is acceptable text, else why not. */
static const char *line_check(const char *s, size_t n)
{
        const unsigned char *u = (const unsigned char *)s;

        for (size_t i = 0; i < n;) {
                size_t l;

                if (u[i] == 0)
                        return "NUL byte in line";
                if ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7F)
                        return "control character in line";
                l = utf8_decode(s + i, n - i, NULL);
                if (l == 0)
                        return "invalid UTF-8 in line";
                i += l;
        }
        return NULL;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

/* Trim blanks on both sides of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
        while (*n > 0 && is_blank(**s))
                (*s)++, (*n)--;
        while (*n > 0 && is_blank((*s)[*n - 1]))
                (*n)--;
}

static bool is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.';
}

typedef struct Parser {
        const char *file;
        IniHandler handler;
        void *userdata;
        IniErrors *errors;
        unsigned n_errors; /* syntax errors of this parse */
        char *section;     /* current header, or NULL */
        char *arg;
        bool had_section; /* a header (even a malformed one) was seen */
} Parser;

static void parser_error(Parser *p, unsigned line, const char *fmt, ...) _printf_(3, 4);
static void parser_error(Parser *p, unsigned line, const char *fmt, ...)
{
        char msg[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ini_errors_add(p->errors, p->file, line, "%s", msg);
        p->n_errors++;
}

/* Handle one logical line (trimmed, not empty, not a comment, NUL-terminated in place). */
static int parser_line(Parser *p, unsigned line, char *s, size_t n)
{
        if (s[0] == '[') {
                char *type, *arg = NULL, *end;

                p->section = mfree(p->section);
                p->arg = mfree(p->arg);
                p->had_section = true;

                if (s[n - 1] != ']') {
                        parser_error(p, line, "section header does not end with ']'");
                        return 0;
                }
                s[n - 1] = 0;
                type = s + 1;
                while (is_blank(*type))
                        type++;
                end = type;
                while (*end && !is_blank(*end))
                        end++;
                if (*end) {
                        *end = 0;
                        arg = end + 1;
                        while (is_blank(*arg))
                                arg++;
                        end = arg + strlen(arg);
                        while (end > arg && is_blank(end[-1]))
                                *--end = 0;
                        if (!*arg)
                                arg = NULL;
                }
                if (!*type) {
                        parser_error(p, line, "empty section header");
                        return 0;
                }
                for (const char *c = type; *c; c++)
                        if (!is_name_char(*c)) {
                                parser_error(p, line, "invalid section name '%s'", type);
                                return 0;
                        }
                if (arg) {
                        for (const char *c = arg; *c; c++) {
                                if (is_blank(*c)) {
                                        parser_error(p, line, "section header has more than one argument");
                                        return 0;
                                }
                                if (*c == '[' || *c == ']') {
                                        parser_error(p, line, "invalid character '%c' in section argument", *c);
                                        return 0;
                                }
                        }
                }

                p->section = strdup(type);
                if (!p->section)
                        return -ENOMEM;
                if (arg) {
                        p->arg = strdup(arg);
                        if (!p->arg)
                                return -ENOMEM;
                }
                return p->handler(p->file, line, p->section, p->arg, NULL, NULL, p->userdata);
        }

        char *eq = strchr(s, '=');
        const char *key, *value;
        size_t kn, vn;

        if (!eq) {
                if (p->section || !p->had_section)
                        parser_error(p, line, "expected 'key = value' or a [section] header");
                return 0;
        }
        key = s, kn = (size_t)(eq - s);
        value = eq + 1, vn = n - kn - 1;
        trim(&key, &kn);
        trim(&value, &vn);
        if (kn == 0) {
                parser_error(p, line, "missing key before '='");
                return 0;
        }
        ((char *)key)[kn] = 0;
        ((char *)value)[vn] = 0;
        for (size_t i = 0; i < kn; i++)
                if (!is_name_char(key[i])) {
                        parser_error(p, line, "invalid key '%s'", key);
                        return 0;
                }
        if (!p->section) {
                /* After a malformed header the keys are skipped (that header was reported). */
                if (!p->had_section)
                        parser_error(p, line, "key '%s' outside of any [section]", key);
                return 0;
        }
        return p->handler(p->file, line, p->section, p->arg, key, value, p->userdata);
}

int ini_parse(const char *file, const char *text, size_t size, IniHandler handler, void *userdata, IniErrors *errors)
{
        enum { CONT_NONE, CONT_BUILDING, CONT_SKIPPING } cont = CONT_NONE;
        _cleanup_free_ char *buf = NULL;
        size_t buf_len = 0, pos = 0;
        unsigned lineno = 0, start_line = 0;
        Parser p = {
                .file = file,
                .handler = handler,
                .userdata = userdata,
                .errors = errors,
        };
        int r = 0;

        if (size > INI_FILE_SIZE_MAX) {
                parser_error(&p, 1, "file too large (%zu bytes, limit %zu)", size, (size_t)INI_FILE_SIZE_MAX);
                return INI_E_SYNTAX;
        }

        buf = malloc(INI_LOGICAL_LINE_MAX + 1);
        if (!buf)
                return -ENOMEM;

        while (pos < size) {
                const char *line = text + pos, *nl, *why;
                size_t n;
                bool continued;

                nl = memchr(line, '\n', size - pos);
                n = nl ? (size_t)(nl - line) : size - pos;
                pos += n + (nl ? 1 : 0);
                lineno++;
                if (lineno > INI_LINES_MAX) {
                        parser_error(&p, lineno, "too many lines (limit %u)", INI_LINES_MAX);
                        cont = CONT_NONE;
                        break;
                }

                if (n > 0 && line[n - 1] == '\r')
                        n--;
                if (n > INI_LINE_MAX) {
                        parser_error(&p, lineno, "line too long (%zu bytes, limit %d)", n, INI_LINE_MAX);
                        cont = cont == CONT_NONE ? CONT_NONE : CONT_SKIPPING;
                        continue;
                }
                why = line_check(line, n);
                if (why) {
                        parser_error(&p, lineno, "%s", why);
                        cont = cont == CONT_NONE ? CONT_NONE : CONT_SKIPPING;
                        continue;
                }

                trim(&line, &n);
                /* Comment lines are skipped, also inside a continued line (as systemd does). */
                if (n > 0 && (line[0] == '#' || line[0] == ';'))
                        continue;
                if (n == 0 && cont == CONT_NONE)
                        continue;

                continued = n > 0 && line[n - 1] == '\\';
                if (continued) {
                        n--;
                        while (n > 0 && is_blank(line[n - 1]))
                                n--;
                }

                if (cont == CONT_SKIPPING) {
                        if (!continued)
                                cont = CONT_NONE;
                        continue;
                }

                if (cont == CONT_NONE) {
                        start_line = lineno;
                        buf_len = 0;
                } else if (n > 0 && buf_len > 0) {
                        if (buf_len + 1 > INI_LOGICAL_LINE_MAX)
                                goto too_long;
                        buf[buf_len++] = ' ';
                }
                if (buf_len + n > INI_LOGICAL_LINE_MAX)
                        goto too_long;
                memcpy(buf + buf_len, line, n);
                buf_len += n;
                buf[buf_len] = 0;

                if (continued) {
                        cont = CONT_BUILDING;
                        continue;
                }
                cont = CONT_NONE;
                if (buf_len == 0)
                        continue;
                r = parser_line(&p, start_line, buf, buf_len);
                if (r < 0)
                        goto finish;
                continue;

        too_long:
                parser_error(&p, start_line, "continued line too long (limit %zu bytes)", (size_t)INI_LOGICAL_LINE_MAX);
                cont = continued ? CONT_SKIPPING : CONT_NONE;
        }

        if (cont != CONT_NONE)
                parser_error(&p, start_line, "line continuation at end of file");
        r = 0;

finish:
        free(p.section);
        free(p.arg);
        if (r < 0)
                return r;
        return p.n_errors > 0 ? INI_E_SYNTAX : 0;
}

/* ---- Value parsers ------------------------------------------------------------------------- */

int ini_parse_bool(const char *s, bool *ret)
{
        static const struct {
                const char *word;
                bool value;
        } table[] = {
                { "yes", true }, { "true", true },   { "on", true },   { "1", true },
                { "no", false }, { "false", false }, { "off", false }, { "0", false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcasecmp(s, table[i].word) == 0) {
                        *ret = table[i].value;
                        return 0;
                }
        return -EINVAL;
}

typedef struct Unit {
        const char *name;
        uint64_t factor;
} Unit;

static const Unit *unit_lookup(const Unit *units, size_t n_units, const char *name, size_t len)
{
        for (size_t i = 0; i < n_units; i++)
                if (strlen(units[i].name) == len && strneq(units[i].name, name, len))
                        return &units[i];
        return NULL;
}

/* "<digits>[blanks]<letters>" at *s, advancing *s: the number, and the letters in [*ret_name, *s). */
static int number_and_name(const char **s, uint64_t *ret_v, const char **ret_name)
{
        int r = parse_digits(s, ret_v);

        if (r <= 0)
                return r < 0 ? r : -EINVAL;
        while (is_blank(**s))
                (*s)++;
        *ret_name = *s;
        while (ascii_isalpha(**s))
                (*s)++;
        return 0;
}

int ini_parse_size(const char *s, uint64_t *ret)
{
        static const Unit units[] = {
                { "", 1 },
                { "B", 1 },
                { "K", UINT64_C(1) << 10 },
                { "KiB", UINT64_C(1) << 10 },
                { "M", UINT64_C(1) << 20 },
                { "MiB", UINT64_C(1) << 20 },
                { "G", UINT64_C(1) << 30 },
                { "GiB", UINT64_C(1) << 30 },
                { "T", UINT64_C(1) << 40 },
                { "TiB", UINT64_C(1) << 40 },
        };
        const Unit *u;
        const char *name;
        uint64_t v;
        int r;

        r = number_and_name(&s, &v, &name);
        if (r < 0)
                return r;
        if (*s)
                return -EINVAL;
        u = unit_lookup(units, ELEMENTSOF(units), name, (size_t)(s - name));
        if (!u)
                return -EINVAL;
        if (v > UINT64_MAX / u->factor)
                return -ERANGE;
        *ret = v * u->factor;
        return 0;
}

int ini_parse_duration(const char *s, uint64_t *ret_ms)
{
        static const Unit units[] = {
                { "ms", 1 },      { "msec", 1 },    { "s", 1000 },     { "sec", 1000 },   { "m", 60000 },
                { "min", 60000 }, { "h", 3600000 }, { "hr", 3600000 }, { "d", 86400000 },
        };
        uint64_t total = 0;
        unsigned parts = 0;

        for (;;) {
                const Unit *u;
                const char *name;
                uint64_t v;
                int r;

                while (is_blank(*s))
                        s++;
                if (!*s)
                        break;
                r = number_and_name(&s, &v, &name);
                if (r < 0)
                        return r;
                if (s == name) {
                        /* A bare number is seconds, but only as the whole value. */
                        while (is_blank(*s))
                                s++;
                        if (parts > 0 || *s)
                                return -EINVAL;
                        u = &units[2];
                } else {
                        u = unit_lookup(units, ELEMENTSOF(units), name, (size_t)(s - name));
                        if (!u)
                                return -EINVAL;
                }
                if (v > UINT64_MAX / u->factor || total > UINT64_MAX - v * u->factor)
                        return -ERANGE;
                total += v * u->factor;
                parts++;
        }
        if (parts == 0)
                return -EINVAL;
        *ret_ms = total;
        return 0;
}

static bool is_list_separator(char c)
{
        return c == ',' || is_blank(c);
}

int ini_parse_list(const char *s, char ***ret)
{
        _cleanup_(strv_freep) char **l = NULL;
        size_t n = 0;

        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (;;) {
                const char *start;
                char **a;

                while (is_list_separator(*s))
                        s++;
                if (!*s)
                        break;
                start = s;
                while (*s && !is_list_separator(*s))
                        s++;
                if (n >= INI_LIST_MAX)
                        return -E2BIG;
                a = reallocarray(l, n + 2, sizeof(char *));
                if (!a)
                        return -ENOMEM;
                l = a;
                l[n] = strndup(start, (size_t)(s - start));
                if (!l[n])
                        return -ENOMEM;
                l[++n] = NULL;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- Key tables ---------------------------------------------------------------------------- */

int ini_item_string(const char *value, unsigned line, void *dst)
{
        char **s = dst, *c;

        if (isempty(value))
                return -EINVAL;
        c = strdup(value);
        if (!c)
                return -ENOMEM;
        free(*s);
        *s = c;
        return 0;
}

int ini_item_bool(const char *value, unsigned line, void *dst)
{
        return ini_parse_bool(value, dst);
}

int ini_item_size(const char *value, unsigned line, void *dst)
{
        uint64_t v;
        int r;

        r = ini_parse_size(value, &v);
        if (r < 0)
                return -EINVAL;
        if (v > SIZE_MAX)
                return -EINVAL;
        *(size_t *)dst = (size_t)v;
        return 0;
}

int ini_item_duration(const char *value, unsigned line, void *dst)
{
        return ini_parse_duration(value, dst) < 0 ? -EINVAL : 0;
}

int ini_item_strv(const char *value, unsigned line, void *dst)
{
        _cleanup_(strv_freep) char **add = NULL;
        char ***l = dst, **a;
        size_t n, m;
        int r;

        r = ini_parse_list(value, &add);
        if (r < 0)
                return r;
        m = strv_length(add);
        if (m == 0)
                return -EINVAL;
        n = strv_length(*l);
        if (n + m > INI_LIST_MAX)
                return -E2BIG;
        a = reallocarray(*l, n + m + 1, sizeof(char *));
        if (!a)
                return -ENOMEM;
        memcpy(a + n, add, (m + 1) * sizeof(char *));
        *l = a;
        free(TAKE_PTR(add)); /* the strings now belong to *l */
        return 0;
}

/* A well-mixed 64-bit hash of one "key = value" pair (FNV-1a, then the murmur3 finaliser): summed into
 * IniSection.digest, so that the order of the keys does not matter. */
static uint64_t pair_hash(const char *key, const char *value)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (const char *p = key; *p; p++)
                h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
        h = (h ^ 0xff) * 0x100000001b3ULL; /* a separator no key holds */
        for (const char *p = value; *p; p++)
                h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ULL;
        return h ^ (h >> 33);
}

int ini_section_apply(IniSection *s, const IniItem *items, size_t n_items, void *object, unsigned line, const char *key,
                      const char *value, IniErrors *errors)
{
        size_t i;
        int r;

        for (i = 0; i < n_items && i < INI_ITEMS_MAX; i++)
                if (streq(items[i].key, key))
                        break;
        if (i >= n_items || i >= INI_ITEMS_MAX) {
                ini_errors_add(errors, s->file, line, "unknown key '%s' in [%s] section", key, s->type);
                return 0;
        }

        if (ini_section_has(s, i) && !(items[i].flags & INI_ITEM_MULTI)) {
                ini_errors_add(errors, s->file, line, "key '%s' given twice (first on line %u)", key, s->lines[i]);
                return 0;
        }

        r = items[i].parse(value, line, (uint8_t *)object + items[i].offset);
        if (r == -ENOMEM)
                return r;
        if (r == -E2BIG) {
                ini_errors_add(errors, s->file, line, "too many values for '%s' (limit %u)", key, INI_LIST_MAX);
                return 0;
        }
        if (r < 0) {
                ini_errors_add(errors, s->file, line, "invalid value '%.128s' for '%s': expected %s", value, key,
                               items[i].expected ? items[i].expected : "a valid value");
                return 0;
        }
        s->seen |= UINT64_C(1) << i;
        s->lines[i] = line;
        s->digest += pair_hash(key, value);
        return 0;
}

void ini_section_check_required(const IniSection *s, const IniItem *items, size_t n_items, IniErrors *errors)
{
        for (size_t i = 0; i < n_items && i < INI_ITEMS_MAX; i++)
                if ((items[i].flags & INI_ITEM_REQUIRED) && !ini_section_has(s, i))
                        ini_errors_add(errors, s->file, s->line, "missing required key '%s' in [%s] section",
                                       items[i].key, s->type);
}
