/* ecmaregex.c: ECMA-262 pattern checks and translation to PCRE2, bounded matching */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/bytes.h"
#include "util/error.h"
#include "validate/ecmaregex.h"

struct EcmaRegex {
        pcre2_code *code;
        pcre2_match_context *mctx;
};

/* ECMA-262 WhiteSpace and LineTerminator, as PCRE2 class items. */
#define ECMA_SPACE_ITEMS \
        "\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}"
/* The complement of that set, for `\S` inside a class (no class subtraction in PCRE2). */
#define ECMA_NONSPACE_ITEMS                                                                                   \
        "\\x{0}-\\x{08}\\x{0e}-\\x{1f}\\x{21}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}\\x{200b}-\\x{2027}" \
        "\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}\\x{3001}-\\x{fefe}\\x{ff00}-\\x{10ffff}"

typedef struct Buf {
        char *data;
        size_t n, size;
        bool oom;
} Buf;

static void buf_add(Buf *b, const char *s, size_t len)
{
        if (b->oom)
                return;
        if (b->n + len + 1 > b->size) {
                size_t size = MAX(b->size * 2, b->n + len + 64);
                char *d = realloc(b->data, size);
                if (!d) {
                        b->oom = true;
                        return;
                }
                b->data = d;
                b->size = size;
        }
        memcpy(b->data + b->n, s, len);
        b->n += len;
        b->data[b->n] = 0;
}

static void buf_puts(Buf *b, const char *s)
{
        buf_add(b, s, strlen(s));
}

static void buf_codepoint(Buf *b, uint32_t cp)
{
        char tmp[16];
        snprintf(tmp, sizeof(tmp), "\\x{%x}", (unsigned)cp);
        buf_puts(b, tmp);
}

typedef struct Translator {
        const char *p, *end;
        Buf out;
        unsigned groups; /* capturing groups in the whole pattern */
        bool named_groups;
        char *error;
        int error_code;
} Translator;

_printf_(3, 4) static int fail(Translator *t, int code, const char *fmt, ...)
{
        va_list ap;

        if (!t->error) {
                va_start(ap, fmt);
                t->error = error_vformat(fmt, ap);
                va_end(ap);
                t->error_code = code;
        }
        return code;
}

static bool is_syntax_char(char c)
{
        return c && strchr("^$\\.*+?()[]{}|/", c);
}

/* Reads exactly n hex digits at t->p. Return: value or -1. */
static long read_hex(Translator *t, unsigned n)
{
        long v = 0;

        if ((size_t)(t->end - t->p) < n)
                return -1;
        for (unsigned i = 0; i < n; i++) {
                int h = hex_digit(t->p[i]);
                if (h < 0)
                        return -1;
                v = v * 16 + h;
        }
        t->p += n;
        return v;
}

/*
 * After the 'u' of `\u`: `XXXX`, a surrogate pair `XXXX\uXXXX` or `{X...}`.
 * Return: code point, or a negative error.
 */
static long read_unicode_escape(Translator *t)
{
        long cp, lo;

        if (t->p < t->end && *t->p == '{') {
                const char *q = t->p + 1;
                cp = 0;
                if (q >= t->end || *q == '}')
                        return fail(t, -EINVAL, "empty \\u{} escape");
                for (; q < t->end && *q != '}'; q++) {
                        int h = hex_digit(*q);
                        if (h < 0)
                                return fail(t, -EINVAL, "bad \\u{} escape");
                        cp = cp * 16 + h;
                        if (cp > 0x10FFFF)
                                return fail(t, -EINVAL, "\\u{} escape above U+10FFFF");
                }
                if (q >= t->end)
                        return fail(t, -EINVAL, "unterminated \\u{} escape");
                t->p = q + 1;
        } else {
                cp = read_hex(t, 4);
                if (cp < 0)
                        return fail(t, -EINVAL, "\\u needs four hex digits");
                if (cp >= 0xD800 && cp <= 0xDBFF && t->end - t->p >= 6 && t->p[0] == '\\' && t->p[1] == 'u') {
                        const char *save = t->p;
                        t->p += 2;
                        lo = read_hex(t, 4);
                        if (lo >= 0xDC00 && lo <= 0xDFFF)
                                return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        t->p = save;
                }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
                return fail(t, -EOPNOTSUPP, "lone surrogate \\u%04lx is not supported", cp);
        return cp;
}

/* ECMA-262 long General_Category names (and aliases) that PCRE2 10.42 only knows by their short form. */
static const char *const category_names[][2] = {
        { "Letter", "L" },
        { "Cased_Letter", "LC" },
        { "Uppercase_Letter", "Lu" },
        { "Lowercase_Letter", "Ll" },
        { "Titlecase_Letter", "Lt" },
        { "Modifier_Letter", "Lm" },
        { "Other_Letter", "Lo" },
        { "Mark", "M" },
        { "Combining_Mark", "M" },
        { "Nonspacing_Mark", "Mn" },
        { "Spacing_Mark", "Mc" },
        { "Enclosing_Mark", "Me" },
        { "Number", "N" },
        { "Decimal_Number", "Nd" },
        { "digit", "Nd" },
        { "Letter_Number", "Nl" },
        { "Other_Number", "No" },
        { "Punctuation", "P" },
        { "punct", "P" },
        { "Connector_Punctuation", "Pc" },
        { "Dash_Punctuation", "Pd" },
        { "Open_Punctuation", "Ps" },
        { "Close_Punctuation", "Pe" },
        { "Initial_Punctuation", "Pi" },
        { "Final_Punctuation", "Pf" },
        { "Other_Punctuation", "Po" },
        { "Symbol", "S" },
        { "Math_Symbol", "Sm" },
        { "Currency_Symbol", "Sc" },
        { "Modifier_Symbol", "Sk" },
        { "Other_Symbol", "So" },
        { "Separator", "Z" },
        { "Space_Separator", "Zs" },
        { "Line_Separator", "Zl" },
        { "Paragraph_Separator", "Zp" },
        { "Other", "C" },
        { "Control", "Cc" },
        { "cntrl", "Cc" },
        { "Format", "Cf" },
        { "Surrogate", "Cs" },
        { "Private_Use", "Co" },
        { "Unassigned", "Cn" },
};

static const char *category_short(const char *name, size_t len)
{
        for (size_t i = 0; i < ELEMENTSOF(category_names); i++)
                if (strlen(category_names[i][0]) == len && strneq(category_names[i][0], name, len))
                        return category_names[i][1];
        return NULL;
}

/* `\p{...}` / `\P{...}`, after the letter. ECMA names are mapped to PCRE2's. */
static int translate_property(Translator *t, char letter)
{
        const char *start, *eq, *name;
        size_t len, name_len;
        char tmp[96];

        if (t->p >= t->end || *t->p != '{')
                return fail(t, -EINVAL, "\\%c needs {name}", letter);
        start = ++t->p;
        while (t->p < t->end && *t->p != '}') {
                char c = *t->p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || ascii_isdigit(c) || c == '_' || c == '='))
                        return fail(t, -EINVAL, "bad character in \\%c{}", letter);
                t->p++;
        }
        if (t->p >= t->end)
                return fail(t, -EINVAL, "unterminated \\%c{", letter);
        len = t->p - start;
        t->p++;
        if (len == 0 || len > 60)
                return fail(t, -EINVAL, "bad \\%c{} name", letter);
        eq = memchr(start, '=', len);
        if (!eq) {
                const char *shortname = category_short(start, len);
                if (shortname)
                        snprintf(tmp, sizeof(tmp), "\\%c{%s}", letter, shortname);
                else
                        snprintf(tmp, sizeof(tmp), "\\%c{%.*s}", letter, (int)len, start);
        } else {
                size_t key_len = eq - start;
                name = eq + 1;
                name_len = len - key_len - 1;
                if (name_len == 0)
                        return fail(t, -EINVAL, "bad \\%c{} value", letter);
                if ((key_len == 16 && strneq(start, "General_Category", 16)) ||
                    (key_len == 2 && strneq(start, "gc", 2))) {
                        const char *shortname = category_short(name, name_len);
                        if (shortname)
                                snprintf(tmp, sizeof(tmp), "\\%c{%s}", letter, shortname);
                        else
                                snprintf(tmp, sizeof(tmp), "\\%c{%.*s}", letter, (int)name_len, name);
                } else if ((key_len == 6 && strneq(start, "Script", 6)) || (key_len == 2 && strneq(start, "sc", 2)))
                        snprintf(tmp, sizeof(tmp), "\\%c{sc:%.*s}", letter, (int)name_len, name);
                else if ((key_len == 17 && strneq(start, "Script_Extensions", 17)) ||
                         (key_len == 3 && strneq(start, "scx", 3)))
                        snprintf(tmp, sizeof(tmp), "\\%c{scx:%.*s}", letter, (int)name_len, name);
                else
                        return fail(t, -EINVAL, "unknown Unicode property '%.*s'", (int)key_len, start);
        }
        buf_puts(&t->out, tmp);
        return 0;
}

/* One escape, after the backslash. */
static int translate_escape(Translator *t, bool in_class)
{
        char c, tmp[32];
        long cp;

        if (t->p >= t->end)
                return fail(t, -EINVAL, "pattern ends with a backslash");
        c = *t->p++;
        switch (c) {
        case 'd':
        case 'D':
        case 'w':
        case 'W':
        case 't':
        case 'n':
        case 'f':
        case 'r':
                tmp[0] = '\\';
                tmp[1] = c;
                buf_add(&t->out, tmp, 2);
                return 0;
        case 'b':
                buf_puts(&t->out, in_class ? "\\x{08}" : "\\b");
                return 0;
        case 'B':
                if (in_class)
                        return fail(t, -EINVAL, "\\B inside a character class");
                buf_puts(&t->out, "\\B");
                return 0;
        case 's':
                buf_puts(&t->out, in_class ? ECMA_SPACE_ITEMS : "[" ECMA_SPACE_ITEMS "]");
                return 0;
        case 'S':
                buf_puts(&t->out, in_class ? ECMA_NONSPACE_ITEMS : "[^" ECMA_SPACE_ITEMS "]");
                return 0;
        case 'v':
                buf_puts(&t->out, "\\x{0b}");
                return 0;
        case 'c':
                if (t->p < t->end && ((*t->p >= 'a' && *t->p <= 'z') || (*t->p >= 'A' && *t->p <= 'Z'))) {
                        buf_codepoint(&t->out, (unsigned char)*t->p % 32);
                        t->p++;
                        return 0;
                }
                return fail(t, -EINVAL, "\\c needs a letter");
        case '0':
                if (t->p < t->end && ascii_isdigit(*t->p))
                        return fail(t, -EINVAL, "octal escapes are not allowed");
                buf_puts(&t->out, "\\x{0}");
                return 0;
        case 'x':
                cp = read_hex(t, 2);
                if (cp < 0)
                        return fail(t, -EINVAL, "\\x needs two hex digits");
                buf_codepoint(&t->out, cp);
                return 0;
        case 'u':
                cp = read_unicode_escape(t);
                if (cp < 0)
                        return (int)cp;
                buf_codepoint(&t->out, cp);
                return 0;
        case 'p':
        case 'P':
                return translate_property(t, c);
        case 'k':
                if (in_class || !t->named_groups)
                        return fail(t, -EINVAL, "\\k without named groups");
                if (t->p >= t->end || *t->p != '<')
                        return fail(t, -EINVAL, "\\k needs <name>");
                {
                        const char *q = memchr(t->p, '>', t->end - t->p);
                        if (!q || q == t->p + 1)
                                return fail(t, -EINVAL, "bad \\k<name>");
                        buf_puts(&t->out, "\\k");
                        buf_add(&t->out, t->p, q + 1 - t->p);
                        t->p = q + 1;
                }
                return 0;
        case '-':
                if (!in_class)
                        return fail(t, -EINVAL, "invalid escape \\-");
                buf_puts(&t->out, "\\-");
                return 0;
        default:
                if (ascii_isdigit(c)) {
                        unsigned long n = c - '0';
                        if (in_class)
                                return fail(t, -EINVAL, "backreference inside a character class");
                        while (t->p < t->end && ascii_isdigit(*t->p) && n < 100000)
                                n = n * 10 + (*t->p++ - '0');
                        if (n > t->groups)
                                return fail(t, -EINVAL, "backreference \\%lu to a missing group", n);
                        snprintf(tmp, sizeof(tmp), "\\g{%lu}", n);
                        buf_puts(&t->out, tmp);
                        return 0;
                }
                if (is_syntax_char(c)) {
                        tmp[0] = '\\';
                        tmp[1] = c;
                        buf_add(&t->out, tmp, 2);
                        return 0;
                }
                if ((unsigned char)c >= 0x80)
                        return fail(t, -EINVAL, "invalid escape of a non-ASCII character");
                return fail(t, -EINVAL, "invalid escape \\%c", c);
        }
}

/* Parses `{n}`, `{n,}`, `{n,m}` at t->p (pointing at '{'). Return: length, or 0 when not a quantifier. */
static size_t quantifier_len(const char *p, const char *end)
{
        const char *q = p + 1;
        const char *d;
        unsigned long lo = 0, hi = 0;

        d = q;
        for (; q < end && ascii_isdigit(*q); q++)
                lo = MIN(lo * 10 + (unsigned long)(*q - '0'), 1000000ul);
        if (q == d)
                return 0;
        if (q < end && *q == '}')
                return q + 1 - p;
        if (q >= end || *q != ',')
                return 0;
        q++;
        d = q;
        for (; q < end && ascii_isdigit(*q); q++)
                hi = MIN(hi * 10 + (unsigned long)(*q - '0'), 1000000ul);
        if (q >= end || *q != '}')
                return 0;
        if (q != d && hi < lo)
                return 0;
        return q + 1 - p;
}

static int translate_class(Translator *t)
{
        /* t->p is after '[' */
        buf_puts(&t->out, "[");
        if (t->p < t->end && *t->p == '^') {
                buf_puts(&t->out, "^");
                t->p++;
        }
        while (t->p < t->end) {
                char c = *t->p++;
                int r;

                switch (c) {
                case ']':
                        buf_puts(&t->out, "]");
                        return 0;
                case '\\':
                        r = translate_escape(t, true);
                        if (r < 0)
                                return r;
                        break;
                case '[':
                        /* literal in ECMA; PCRE2 would read "[:alpha:]" */
                        buf_puts(&t->out, "\\[");
                        break;
                default:
                        buf_add(&t->out, &c, 1);
                }
        }
        return fail(t, -EINVAL, "unterminated character class");
}

static void count_groups(Translator *t)
{
        bool in_class = false;

        for (const char *p = t->p; p < t->end; p++) {
                if (*p == '\\') {
                        p++;
                        continue;
                }
                if (in_class) {
                        if (*p == ']')
                                in_class = false;
                        continue;
                }
                if (*p == '[')
                        in_class = true;
                else if (*p == '(') {
                        if (p + 1 < t->end && p[1] == '?') {
                                if (p + 3 < t->end && p[2] == '<' && p[3] != '=' && p[3] != '!') {
                                        t->groups++;
                                        t->named_groups = true;
                                }
                        } else
                                t->groups++;
                }
        }
}

static int translate(Translator *t)
{
        /* whether the last item can take a quantifier */
        bool atom = false, quantified = false;
        int r;

        count_groups(t);
        while (t->p < t->end && !t->out.oom) {
                char c = *t->p++;

                switch (c) {
                case '\\': {
                        /* \b and \B are assertions: nothing to repeat after them */
                        bool assertion = t->p < t->end && (*t->p == 'b' || *t->p == 'B');
                        r = translate_escape(t, false);
                        if (r < 0)
                                return r;
                        atom = !assertion;
                        quantified = false;
                        break;
                }
                case '.':
                        buf_puts(&t->out, "[^\\n\\r\\x{2028}\\x{2029}]");
                        atom = true;
                        quantified = false;
                        break;
                case '[':
                        r = translate_class(t);
                        if (r < 0)
                                return r;
                        atom = true;
                        quantified = false;
                        break;
                case '(':
                        if (t->p < t->end && *t->p == '?') {
                                const char *q = t->p + 1;
                                if (q < t->end && (*q == ':' || *q == '=' || *q == '!')) {
                                        buf_add(&t->out, t->p - 1, 3);
                                        t->p += 2;
                                } else if (q + 1 < t->end && *q == '<' && (q[1] == '=' || q[1] == '!')) {
                                        buf_add(&t->out, t->p - 1, 4);
                                        t->p += 3;
                                } else if (q < t->end && *q == '<') {
                                        const char *e = q + 1;
                                        while (e < t->end && *e != '>' &&
                                               ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
                                                ascii_isdigit(*e) || *e == '_' || *e == '$'))
                                                e++;
                                        if (e >= t->end || *e != '>' || e == q + 1 || ascii_isdigit(q[1]))
                                                return fail(t, -EINVAL, "bad group name");
                                        buf_add(&t->out, t->p - 1, e + 1 - (t->p - 1));
                                        t->p = e + 1;
                                } else
                                        return fail(t, -EINVAL, "unsupported group syntax '(?%c'",
                                                    q < t->end ? *q : ' ');
                        } else
                                buf_puts(&t->out, "(");
                        atom = false;
                        quantified = false;
                        break;
                case ')':
                        buf_puts(&t->out, ")");
                        atom = true;
                        quantified = false;
                        break;
                case '|':
                case '^':
                case '$':
                        buf_add(&t->out, &c, 1);
                        atom = false;
                        quantified = false;
                        break;
                case '*':
                case '+':
                case '?':
                case '{': {
                        size_t qlen = 1;
                        if (c == '{') {
                                qlen = quantifier_len(t->p - 1, t->end);
                                if (qlen == 0)
                                        return fail(t, -EINVAL,
                                                    ascii_isdigit(*t->p) ? "invalid quantifier {...}"
                                                                         : "lone '{' (escape it as \\{)");
                        }
                        if (!atom || quantified)
                                return fail(t, -EINVAL, "nothing to repeat before '%c'", c);
                        buf_add(&t->out, t->p - 1, qlen);
                        t->p += qlen - 1;
                        if (t->p < t->end && *t->p == '?') {
                                buf_puts(&t->out, "?");
                                t->p++;
                        }
                        quantified = true;
                        break;
                }
                case '}':
                case ']':
                        return fail(t, -EINVAL, "lone '%c' (escape it)", c);
                case 0:
                        buf_puts(&t->out, "\\x{0}");
                        atom = true;
                        quantified = false;
                        break;
                default:
                        buf_add(&t->out, &c, 1);
                        /* continuation bytes of a UTF-8 sequence follow as-is */
                        while (t->p < t->end && ((unsigned char)*t->p & 0xC0) == 0x80)
                                buf_add(&t->out, t->p++, 1);
                        atom = true;
                        quantified = false;
                }
        }
        if (t->out.oom)
                return -ENOMEM;
        if (!t->out.data)
                buf_puts(&t->out, "");
        return t->out.oom ? -ENOMEM : 0;
}

int ecmaregex_translate(const char *pattern, size_t len, char **ret, char **ret_error)
{
        Translator t = { .p = pattern, .end = pattern + len };
        int r;

        r = translate(&t);
        if (r < 0) {
                free(t.out.data);
                if (ret_error)
                        *ret_error = TAKE_PTR(t.error);
                free(t.error);
                return r;
        }
        *ret = t.out.data;
        return 0;
}

EcmaRegex *ecmaregex_free(EcmaRegex *re)
{
        if (!re)
                return NULL;
        pcre2_code_free(re->code);
        pcre2_match_context_free(re->mctx);
        free(re);
        return NULL;
}

int ecmaregex_new(EcmaRegex **ret, const char *pattern, size_t len, uint32_t match_limit, uint32_t depth_limit,
                  char **ret_error)
{
        _cleanup_free_ char *translated = NULL;
        _cleanup_(ecmaregex_freep) EcmaRegex *re = NULL;
        pcre2_compile_context *cctx;
        PCRE2_SIZE erroffset;
        int r, errcode;

        r = ecmaregex_translate(pattern, len, &translated, ret_error);
        if (r < 0)
                return r;

        re = calloc(1, sizeof(*re));
        if (!re)
                return -ENOMEM;
        cctx = pcre2_compile_context_create(NULL);
        if (!cctx)
                return -ENOMEM;
        /* nested parentheses are bounded by the pattern length limit; keep PCRE2's own cap low too */
        pcre2_set_parens_nest_limit(cctx, 200);
        re->code = pcre2_compile((PCRE2_SPTR)translated, strlen(translated),
                                 PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS |
                                         PCRE2_MATCH_UNSET_BACKREF | PCRE2_NEVER_BACKSLASH_C,
                                 &errcode, &erroffset, cctx);
        pcre2_compile_context_free(cctx);
        if (!re->code) {
                PCRE2_UCHAR msg[160];

                pcre2_get_error_message(errcode, msg, sizeof(msg));
                return error_set(ret_error, errcode == PCRE2_ERROR_HEAP_FAILED ? -ENOMEM : -EINVAL, "%s",
                                 (const char *)msg);
        }
        /* JIT when available; without it the interpreter runs under the same limits */
        (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);

        re->mctx = pcre2_match_context_create(NULL);
        if (!re->mctx)
                return -ENOMEM;
        pcre2_set_match_limit(re->mctx, match_limit ? match_limit : 100000);
        pcre2_set_depth_limit(re->mctx, depth_limit ? depth_limit : 1000);
        pcre2_set_heap_limit(re->mctx, 8192); /* KiB */

        *ret = TAKE_PTR(re);
        return 0;
}

/* One match block per thread: a compiled pattern is shared, match data is not. */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static pthread_key_t md_key;
static bool md_key_ok;
static _Thread_local pcre2_match_data *md_tls;

static void md_destroy(void *p)
{
        pcre2_match_data_free(p);
}

static void md_init(void)
{
        md_key_ok = pthread_key_create(&md_key, md_destroy) == 0;
}

static pcre2_match_data *md_get(void)
{
        if (_likely_(md_tls))
                return md_tls;
        (void)pthread_once(&md_once, md_init);
        if (!md_key_ok)
                return NULL;
        md_tls = pcre2_match_data_create(1, NULL);
        if (md_tls && pthread_setspecific(md_key, md_tls) != 0) {
                pcre2_match_data_free(md_tls);
                md_tls = NULL;
        }
        return md_tls;
}

int ecmaregex_search(const EcmaRegex *re, const char *subject, size_t len)
{
        pcre2_match_data *md = md_get();
        int rc;

        if (!md)
                return -ENOMEM;
        rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, re->mctx);
        if (rc >= 0)
                return 1;
        switch (rc) {
        case PCRE2_ERROR_NOMATCH:
                return 0;
        case PCRE2_ERROR_MATCHLIMIT:
        case PCRE2_ERROR_DEPTHLIMIT:
        case PCRE2_ERROR_HEAPLIMIT:
        case PCRE2_ERROR_JIT_STACKLIMIT:
                return -ETIME;
        case PCRE2_ERROR_NOMEMORY:
                return -ENOMEM;
        default:
                return -EINVAL;
        }
}
