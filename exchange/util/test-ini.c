/* test-ini.c: unit tests for the INI parser, value parsers and key tables */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ini.h"

static unsigned n_checks;
#define CHECK(x)                                                                              \
        do {                                                                                  \
                n_checks++;                                                                   \
                if (!(x)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
                        abort();                                                              \
                }                                                                             \
        } while (0)

/* Records every event as one line of text. */
typedef struct Capture {
        char *buf;
        size_t size;
        FILE *f;
        int fail_at; /* return -EIO on this event (1-based), 0 = never */
        int n;
} Capture;

static int capture_handler(const char *file, unsigned line, const char *section, const char *arg, const char *key,
                           const char *value, void *userdata)
{
        Capture *c = userdata;

        c->n++;
        if (c->fail_at && c->n == c->fail_at)
                return -EIO;
        if (key)
                fprintf(c->f, "%s:%u [%s|%s] %s=<%s>\n", file, line, section, strempty(arg), key, value);
        else
                fprintf(c->f, "%s:%u [%s|%s]\n", file, line, section, arg ? arg : "(null)");
        return 0;
}

/* Parse `text`; return the events in *ret_events and the errors in *ret_errors. */
static int parse(const char *text, size_t size, char **ret_events, char **ret_errors)
{
        Capture c = {};
        IniErrors e = {};
        int r;

        c.f = open_memstream(&c.buf, &c.size);
        assert(c.f);
        r = ini_parse("t.conf", text, size, capture_handler, &c, &e);
        fclose(c.f);
        assert(ini_errors_to_string(&e, ret_errors) == 0);
        ini_errors_done(&e);
        *ret_events = c.buf;
        return r;
}

static void test_good(void)
{
        static const char text[] = "# comment\n"
                                   "; another comment\n"
                                   "\n"
                                   "[instance]\n"
                                   "id = VN\n"
                                   "  name   =   Viet Nam  \r\n"
                                   "[service   VN/GOV/BCA/population/citizen  ]\n"
                                   "methods = GET, \\\n"
                                   "   # a comment inside a continuation is skipped\n"
                                   "          HEAD \\\n"
                                   "          POST\n"
                                   "empty =\n"
                                   "url = http://x/?a=b=c\n"
                                   "\t[ group\tg1 ]\t\n"
                                   "members=a b,c\n"
                                   "[last]";
        _cleanup_free_ char *events = NULL, *errors = NULL;

        CHECK(parse(text, strlen(text), &events, &errors) == 0);
        CHECK(streq(errors, ""));
        CHECK(streq(events, "t.conf:4 [instance|(null)]\n"
                            "t.conf:5 [instance|] id=<VN>\n"
                            "t.conf:6 [instance|] name=<Viet Nam>\n"
                            "t.conf:7 [service|VN/GOV/BCA/population/citizen]\n"
                            "t.conf:8 [service|VN/GOV/BCA/population/citizen] methods=<GET, HEAD POST>\n"
                            "t.conf:12 [service|VN/GOV/BCA/population/citizen] empty=<>\n"
                            "t.conf:13 [service|VN/GOV/BCA/population/citizen] url=<http://x/?a=b=c>\n"
                            "t.conf:14 [group|g1]\n"
                            "t.conf:15 [group|g1] members=<a b,c>\n"
                            "t.conf:16 [last|(null)]\n"));

        /* The text need not be NUL-terminated: only `size` bytes are read. */
        free(events), free(errors);
        CHECK(parse("[a]\nk = v\nGARBAGE", 10, &events, &errors) == 0);
        CHECK(streq(events, "t.conf:1 [a|(null)]\nt.conf:2 [a|] k=<v>\n"));

        /* Empty input. */
        free(events), free(errors);
        CHECK(parse("", 0, &events, &errors) == 0);
        CHECK(streq(events, "") && streq(errors, ""));

        /* UTF-8 text is fine. */
        free(events), free(errors);
        CHECK(parse("[m]\nname = Bộ Công an\n", strlen("[m]\nname = Bộ Công an\n"), &events, &errors) == 0);
        CHECK(streq(events, "t.conf:1 [m|(null)]\nt.conf:2 [m|] name=<Bộ Công an>\n"));
}

static void test_malformed(void)
{
        static const struct {
                const char *text;
                const char *events;
                const char *errors;
        } table[] = {
                { "k = v\n", "", "t.conf:1: key 'k' outside of any [section]\n" },
                { "[a\nk = v\n", "", "t.conf:1: section header does not end with ']'\n" },
                { "[]\n", "", "t.conf:1: empty section header\n" },
                { "[ ]\n", "", "t.conf:1: empty section header\n" },
                { "[a!b]\n", "", "t.conf:1: invalid section name 'a!b'\n" },
                { "[a b c]\n", "", "t.conf:1: section header has more than one argument\n" },
                { "[a b[c]\n", "", "t.conf:1: invalid character '[' in section argument\n" },
                { "[a]\njust words\n", "t.conf:1 [a|(null)]\n",
                  "t.conf:2: expected 'key = value' or a [section] header\n" },
                { "[a]\n= v\n", "t.conf:1 [a|(null)]\n", "t.conf:2: missing key before '='\n" },
                { "[a]\nk k = v\n", "t.conf:1 [a|(null)]\n", "t.conf:2: invalid key 'k k'\n" },
                { "[a]\nk = v \\\n", "t.conf:1 [a|(null)]\n", "t.conf:2: line continuation at end of file\n" },
                { "[a]\nk = \001\n", "t.conf:1 [a|(null)]\n", "t.conf:2: control character in line\n" },
                { "[a]\nk = \x7f\n", "t.conf:1 [a|(null)]\n", "t.conf:2: control character in line\n" },
                { "[a]\nk = \xff\n", "t.conf:1 [a|(null)]\n", "t.conf:2: invalid UTF-8 in line\n" },
                { "[a]\nk = \xc0\x80\n", "t.conf:1 [a|(null)]\n", "t.conf:2: invalid UTF-8 in line\n" },
                { "[a]\nk = \xed\xa0\x80\n", "t.conf:1 [a|(null)]\n", "t.conf:2: invalid UTF-8 in line\n" },
                { "[a]\nk = \xe1\xbb\n", "t.conf:1 [a|(null)]\n", "t.conf:2: invalid UTF-8 in line\n" },
                { "[a]\nk = a\rb\n", "t.conf:1 [a|(null)]\n", "t.conf:2: control character in line\n" },
                /* A bad line inside a continuation drops the whole logical line. */
                { "[a]\nk = a \\\n\001 \\\nc\nj = d\n", "t.conf:1 [a|(null)]\nt.conf:5 [a|] j=<d>\n",
                  "t.conf:3: control character in line\n" },
                /* Keys after a malformed header are skipped without more errors; parsing goes on. */
                { "[a\nk = v\nbad line\n[b]\nk = w\nx\n", "t.conf:4 [b|(null)]\nt.conf:5 [b|] k=<w>\n",
                  "t.conf:1: section header does not end with ']'\n"
                  "t.conf:6: expected 'key = value' or a [section] header\n" },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *events = NULL, *errors = NULL;
                int r;

                r = parse(table[i].text, strlen(table[i].text), &events, &errors);
                if (r != INI_E_SYNTAX || !streq(events, table[i].events) || !streq(errors, table[i].errors)) {
                        fprintf(stderr, "case %zu: r=%d\nevents:\n%s\nerrors:\n%s\n", i, r, events, errors);
                        CHECK(false);
                }
                n_checks++;
        }

        /* A NUL byte inside the given size. */
        {
                _cleanup_free_ char *events = NULL, *errors = NULL;
                CHECK(parse("[a]\nk = x\0y\n", 12, &events, &errors) == INI_E_SYNTAX);
                CHECK(streq(errors, "t.conf:2: NUL byte in line\n"));
        }
}

static void test_limits(void)
{
        _cleanup_free_ char *big = NULL;
        size_t n;

        /* A physical line of exactly INI_LINE_MAX bytes is fine, one more is not. */
        big = malloc(INI_LINE_MAX + 64);
        assert(big);
        for (size_t extra = 0; extra <= 1; extra++) {
                _cleanup_free_ char *events = NULL, *errors = NULL;

                n = 0;
                n += (size_t)sprintf(big, "[a]\nk = ");
                memset(big + n, 'x', INI_LINE_MAX - 4 + extra);
                n += INI_LINE_MAX - 4 + extra;
                big[n++] = '\n';
                if (extra == 0) {
                        CHECK(parse(big, n, &events, &errors) == 0);
                } else {
                        CHECK(parse(big, n, &events, &errors) == INI_E_SYNTAX);
                        CHECK(streq(errors, "t.conf:2: line too long (4097 bytes, limit 4096)\n"));
                }
        }
        big = mfree(big);

        /* Continued lines longer than INI_LOGICAL_LINE_MAX, then parsing resumes. */
        {
                _cleanup_free_ char *events = NULL, *errors = NULL;
                FILE *f;
                size_t size = 0;

                f = open_memstream(&big, &size);
                fputs("[a]\nk = ", f);
                for (int i = 0; i < 10; i++) {
                        for (int j = 0; j < 2000; j++)
                                fputc('y', f);
                        fputs(" \\\n", f);
                }
                fputs("end\nj = 1\n", f);
                fclose(f);
                CHECK(parse(big, size, &events, &errors) == INI_E_SYNTAX);
                CHECK(streq(errors, "t.conf:2: continued line too long (limit 16384 bytes)\n"));
                CHECK(streq(events, "t.conf:1 [a|(null)]\nt.conf:13 [a|] j=<1>\n"));
                big = mfree(big);
        }

        /* Too many lines. */
        {
                _cleanup_free_ char *events = NULL, *errors = NULL;

                n = INI_LINES_MAX + 10;
                big = malloc(n);
                assert(big);
                memset(big, '\n', n);
                CHECK(parse(big, n, &events, &errors) == INI_E_SYNTAX);
                CHECK(streq(errors, "t.conf:100001: too many lines (limit 100000)\n"));
                big = mfree(big);
        }

        /* Too large a file: refused before any parsing. */
        {
                _cleanup_free_ char *events = NULL, *errors = NULL;

                n = INI_FILE_SIZE_MAX + 1;
                big = malloc(n);
                assert(big);
                memset(big, '#', n);
                CHECK(parse(big, n, &events, &errors) == INI_E_SYNTAX);
                CHECK(streq(errors, "t.conf:1: file too large (4194305 bytes, limit 4194304)\n"));
                CHECK(streq(events, ""));
                big = mfree(big);
        }
}

static void test_handler_abort(void)
{
        Capture c = {};
        IniErrors e = {};
        const char *text = "[a]\nk = 1\nj = 2\n";

        c.fail_at = 2;
        c.f = open_memstream(&c.buf, &c.size);
        CHECK(ini_parse("t.conf", text, strlen(text), capture_handler, &c, &e) == -EIO);
        fclose(c.f);
        CHECK(c.n == 2);
        CHECK(ini_errors_count(&e) == 0);
        free(c.buf);
        ini_errors_done(&e);
}

static void test_errors_sink(void)
{
        IniErrors e = {};
        _cleanup_free_ char *s = NULL;

        ini_errors_add(&e, "b.conf", 3, "third %d", 3);
        ini_errors_add(&e, "a.conf", 9, "second");
        ini_errors_add(&e, "a.conf", 2, "first");
        ini_errors_add(&e, "b.conf", 3, "fourth");
        CHECK(ini_errors_count(&e) == 4);
        CHECK(ini_errors_to_string(&e, &s) == 0);
        CHECK(streq(s, "a.conf:2: first\na.conf:9: second\nb.conf:3: third 3\nb.conf:3: fourth\n"));
        ini_errors_done(&e);
        s = mfree(s);

        for (unsigned i = 0; i < INI_ERRORS_MAX + 5; i++)
                ini_errors_add(&e, "x", i + 1, "e");
        CHECK(ini_errors_count(&e) == INI_ERRORS_MAX + 5);
        CHECK(e.n_errors == INI_ERRORS_MAX);
        CHECK(ini_errors_to_string(&e, &s) == 0);
        CHECK(strstr(s, "x:1000: e\n... and 5 more errors\n"));
        ini_errors_done(&e);
}

static void test_bool(void)
{
        static const struct {
                const char *s;
                int r;
                bool v;
        } table[] = {
                { "yes", 0, true },         { "YES", 0, true },     { "true", 0, true },     { "on", 0, true },
                { "1", 0, true },           { "no", 0, false },     { "False", 0, false },   { "off", 0, false },
                { "0", 0, false },          { "", -EINVAL, false }, { "y", -EINVAL, false }, { "2", -EINVAL, false },
                { "yes ", -EINVAL, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                bool v = !table[i].v;
                CHECK(ini_parse_bool(table[i].s, &v) == table[i].r);
                if (table[i].r == 0)
                        CHECK(v == table[i].v);
        }
}

static void test_size(void)
{
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } table[] = {
                { "0", 0, 0 },
                { "512", 0, 512 },
                { "512B", 0, 512 },
                { "64K", 0, 65536 },
                { "64KiB", 0, 65536 },
                { "64 KiB", 0, 65536 },
                { "1MiB", 0, 1048576 },
                { "1M", 0, 1048576 },
                { "2GiB", 0, UINT64_C(2147483648) },
                { "1TiB", 0, UINT64_C(1099511627776) },
                { "18446744073709551615", 0, UINT64_MAX },
                { "18446744073709551616", -ERANGE, 0 },
                { "16777216TiB", -ERANGE, 0 },
                { "", -EINVAL, 0 },
                { "KiB", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "+1", -EINVAL, 0 },
                { "1.5MiB", -EINVAL, 0 },
                { "1 MiB x", -EINVAL, 0 },
                { "1KB", -EINVAL, 0 },
                { "1kib", -EINVAL, 0 },
                { " 1", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                uint64_t v = 42;
                int r = ini_parse_size(table[i].s, &v);
                if (r != table[i].r || (r == 0 && v != table[i].v)) {
                        fprintf(stderr, "size '%s': r=%d v=%llu\n", table[i].s, r, (unsigned long long)v);
                        CHECK(false);
                }
                n_checks++;
        }
}

static void test_duration(void)
{
        static const struct {
                const char *s;
                int r;
                uint64_t v;
        } table[] = {
                { "500ms", 0, 500 },
                { "500 msec", 0, 500 },
                { "5s", 0, 5000 },
                { "5sec", 0, 5000 },
                { "5", 0, 5000 },
                { "2min", 0, 120000 },
                { "2m", 0, 120000 },
                { "1h", 0, 3600000 },
                { "1hr", 0, 3600000 },
                { "1d", 0, 86400000 },
                { "1min 30s", 0, 90000 },
                { "1min30s", 0, 90000 },
                { "0s", 0, 0 },
                { "", -EINVAL, 0 },
                { "   ", -EINVAL, 0 },
                { "s", -EINVAL, 0 },
                { "5 parsecs", -EINVAL, 0 },
                { "1min 30", -EINVAL, 0 },
                { "5 5", -EINVAL, 0 },
                { "-5s", -EINVAL, 0 },
                { "1.5s", -EINVAL, 0 },
                { "99999999999999999999ms", -ERANGE, 0 },
                { "18446744073709551615d", -ERANGE, 0 },
                { "18446744073709551615ms 1ms", -ERANGE, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                uint64_t v = 42;
                int r = ini_parse_duration(table[i].s, &v);
                if (r != table[i].r || (r == 0 && v != table[i].v)) {
                        fprintf(stderr, "duration '%s': r=%d v=%llu\n", table[i].s, r, (unsigned long long)v);
                        CHECK(false);
                }
                n_checks++;
        }
}

static void test_list(void)
{
        _cleanup_(strv_freep) char **l = NULL;
        _cleanup_free_ char *many = NULL;
        size_t n = 0;

        CHECK(ini_parse_list("GET, POST  HEAD,,\t,PUT", &l) == 0);
        CHECK(strv_length(l) == 4);
        CHECK(streq(l[0], "GET") && streq(l[1], "POST") && streq(l[2], "HEAD") && streq(l[3], "PUT"));
        CHECK(!l[4]);
        CHECK(strv_contains(l, "HEAD") && !strv_contains(l, "head"));
        l = strv_free(l);

        CHECK(ini_parse_list("", &l) == 0);
        CHECK(l && strv_length(l) == 0);
        l = strv_free(l);

        CHECK(ini_parse_list(" , ", &l) == 0);
        CHECK(strv_length(l) == 0);
        l = strv_free(l);

        /* Exactly INI_LIST_MAX items are fine, one more is refused. */
        many = malloc(INI_LIST_MAX * 2 + 3);
        assert(many);
        for (unsigned i = 0; i < INI_LIST_MAX; i++) {
                many[n++] = 'a';
                many[n++] = ',';
        }
        many[n] = 0;
        CHECK(ini_parse_list(many, &l) == 0);
        CHECK(strv_length(l) == INI_LIST_MAX);
        l = strv_free(l);
        many[n++] = 'b';
        many[n] = 0;
        CHECK(ini_parse_list(many, &l) == -E2BIG);
        CHECK(!l);
        CHECK(strv_free(NULL) == NULL);
}

typedef struct Thing {
        char *name;
        bool flag;
        size_t size;
        uint64_t timeout;
        char **tags;
} Thing;

enum { THING_NAME, THING_FLAG, THING_SIZE, THING_TIMEOUT, THING_TAGS };

static const IniItem thing_items[] = {
        [THING_NAME] = { "name", ini_item_string, offsetof(Thing, name), INI_ITEM_REQUIRED, "a name" },
        [THING_FLAG] = { "flag", ini_item_bool, offsetof(Thing, flag), 0, "yes or no" },
        [THING_SIZE] = { "size", ini_item_size, offsetof(Thing, size), INI_ITEM_REQUIRED, "a size such as 64KiB" },
        [THING_TIMEOUT] = { "timeout", ini_item_duration, offsetof(Thing, timeout), 0, "a duration" },
        [THING_TAGS] = { "tags", ini_item_strv, offsetof(Thing, tags), INI_ITEM_MULTI, "a list" },
};

typedef struct ThingParse {
        Thing thing;
        IniSection sec;
        IniErrors *errors;
} ThingParse;

static int thing_handler(const char *file, unsigned line, const char *section, const char *arg, const char *key,
                         const char *value, void *userdata)
{
        ThingParse *t = userdata;

        if (!key) {
                t->sec.type = "thing";
                t->sec.file = "t.conf";
                t->sec.line = line;
                return 0;
        }
        return ini_section_apply(&t->sec, thing_items, ELEMENTSOF(thing_items), &t->thing, line, key, value, t->errors);
}

static void test_table(void)
{
        static const char text[] = "[thing]\n"
                                   "name = box\n"
                                   "flag = maybe\n"
                                   "tags = a, b\n"
                                   "colour = red\n"
                                   "timeout = 2min\n"
                                   "name = crate\n"
                                   "tags = c\n"
                                   "tags =\n"
                                   "timeout = soon\n";
        ThingParse t = {};
        IniErrors e = {};
        _cleanup_free_ char *s = NULL;

        t.errors = &e;
        CHECK(ini_parse("t.conf", text, strlen(text), thing_handler, &t, &e) == 0);
        ini_section_check_required(&t.sec, thing_items, ELEMENTSOF(thing_items), &e);
        CHECK(ini_errors_to_string(&e, &s) == 0);
        CHECK(streq(s, "t.conf:1: missing required key 'size' in [thing] section\n"
                       "t.conf:3: invalid value 'maybe' for 'flag': expected yes or no\n"
                       "t.conf:5: unknown key 'colour' in [thing] section\n"
                       "t.conf:7: key 'name' given twice (first on line 2)\n"
                       "t.conf:9: invalid value '' for 'tags': expected a list\n"
                       "t.conf:10: key 'timeout' given twice (first on line 6)\n"));
        CHECK(streq(t.thing.name, "box"));
        CHECK(t.thing.timeout == 120000);
        CHECK(strv_length(t.thing.tags) == 3 && streq(t.thing.tags[2], "c"));
        CHECK(ini_section_has(&t.sec, THING_NAME) && !ini_section_has(&t.sec, THING_SIZE));
        CHECK(!ini_section_has(&t.sec, THING_FLAG)); /* the bad value did not count */
        CHECK(ini_section_line(&t.sec, THING_TAGS) == 8);
        CHECK(ini_section_line(&t.sec, THING_SIZE) == 1);
        free(t.thing.name);
        strv_free(t.thing.tags);
        ini_errors_done(&e);

        /* String items refuse empty values; size items refuse overflow. */
        char *str = NULL;
        size_t sz = 0;
        CHECK(ini_item_string("", 1, &str) == -EINVAL && !str);
        CHECK(ini_item_size("99999999999999999999", 1, &sz) == -EINVAL);
        CHECK(ini_item_size("1MiB", 1, &sz) == 0 && sz == MIB(1));
}

static void test_read_file(void)
{
        char path[] = "/tmp/test-ini-XXXXXX";
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int fd;

        fd = mkstemp(path);
        assert(fd >= 0);
        assert(write(fd, "[a]\nk = v\n", 10) == 10);
        close(fd);

        CHECK(read_full_file(path, 100, &text, &size) == 0);
        CHECK(size == 10 && streq(text, "[a]\nk = v\n"));
        text = mfree(text);
        CHECK(read_full_file(path, 10, &text, &size) == 0);
        text = mfree(text);
        CHECK(read_full_file(path, 9, &text, &size) == -EFBIG);
        CHECK(!text);
        unlink(path);
        CHECK(read_full_file(path, 100, &text, &size) == -ENOENT);
        CHECK(read_full_file("/tmp", 100, &text, &size) == -EISDIR);
}

int main(void)
{
        test_good();
        test_malformed();
        test_limits();
        test_handler_abort();
        test_errors_sink();
        test_bool();
        test_size();
        test_duration();
        test_list();
        test_table();
        test_read_file();
        printf("test-ini: %u checks passed\n", n_checks);
        return 0;
}
