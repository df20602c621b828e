/* test-log.c: the operational log: its three formats, the journal's socket, the rate limit */
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"
#include "util/macro.h"

/* 1700000000.123456 s: 2023-11-14T22:13:20.123Z */
#define T0 1700000000123456ULL

static LogLine line(int level, int error, const char *message)
{
        return (LogLine){ .realtime_usec = T0,
                          .level = level,
                          .error = error,
                          .file = "../exchange/node/exchange.c",
                          .line = 42,
                          .func = "exchange_logged",
                          .message = message };
}

static void test_text(void)
{
        char buf[160], big[4000], want[160];
        LogLine l = line(LOG_LEVEL_WARNING, 0, "disk \"x\" full");
        size_t n;

        log_set_ident("test-log");
        n = log_format(buf, sizeof(buf), LOG_FORMAT_TEXT, &l);
        snprintf(want, sizeof(want), "2023-11-14T22:13:20.123Z test-log/node[%d]: warning: disk \"x\" full\n",
                 (int)getpid());
        assert(streq(buf, want) && n == strlen(want));
        /* a file without a folder: "-" */
        l.file = "main.c";
        log_format(buf, sizeof(buf), LOG_FORMAT_TEXT, &l);
        assert(strstr(buf, " test-log/-["));
        /* too long: cut, still one line */
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        l = line(LOG_LEVEL_ERR, 0, big);
        l.realtime_usec = 0;
        n = log_format(buf, sizeof(buf), LOG_FORMAT_TEXT, &l);
        assert(n == sizeof(buf) - 1 && buf[n - 1] == '\n' && !strchr(buf, '\n')[1]);
        assert(strneq(buf, "1970-01-01T00:00:00.000Z test-log/node[", 39));
}

static json_t *parse_line(const char *buf, size_t n)
{
        json_error_t e;
        json_t *j;

        assert(n > 0 && buf[n - 1] == '\n' && !memchr(buf, '\n', n - 1));
        j = json_loadb(buf, n - 1, 0, &e);
        assert(j && json_is_object(j));
        return j;
}

static void test_json(void)
{
        char buf[8192], big[9000];
        LogLine l = line(LOG_LEVEL_ERR, ENOSPC, "write \"a\\b\"\nfailed\x01 \xff caf\xc3\xa9: No space left on device");
        json_t *j;
        size_t n;

        log_set_ident("test-log");
        n = log_format(buf, sizeof(buf), LOG_FORMAT_JSON, &l);
        j = parse_line(buf, n);
        assert(streq(json_string_value(json_object_get(j, "time")), "2023-11-14T22:13:20.123Z"));
        assert(streq(json_string_value(json_object_get(j, "level")), "error"));
        assert(streq(json_string_value(json_object_get(j, "program")), "test-log"));
        assert(json_integer_value(json_object_get(j, "pid")) == getpid());
        assert(streq(json_string_value(json_object_get(j, "component")), "node"));
        assert(json_integer_value(json_object_get(j, "errno")) == ENOSPC);
        /* quotes, backslashes, control bytes escaped; a byte that is not UTF-8 replaced; UTF-8 kept */
        assert(streq(json_string_value(json_object_get(j, "message")),
                     "write \"a\\b\"\nfailed\x01 \xef\xbf\xbd caf\xc3\xa9: No space left on device"));
        json_decref(j);
        /* no errno: no field */
        l = line(LOG_LEVEL_INFO, 0, "started");
        j = parse_line(buf, log_format(buf, sizeof(buf), LOG_FORMAT_JSON, &l));
        assert(!json_object_get(j, "errno") && streq(json_string_value(json_object_get(j, "level")), "info"));
        json_decref(j);
        /* too long, and cut inside escapes: still one valid line */
        memset(big, '"', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        l = line(LOG_LEVEL_ERR, 0, big);
        for (size_t size = 150; size <= sizeof(buf); size += 997) {
                n = log_format(buf, size, LOG_FORMAT_JSON, &l);
                assert(n < size);
                j = parse_line(buf, n);
                assert(strspn(json_string_value(json_object_get(j, "message")), "\"") ==
                       strlen(json_string_value(json_object_get(j, "message"))));
                json_decref(j);
        }
}

/* The value of journal field `key` in the datagram (text or binary form), or NULL; *ret_len its length. */
static const char *field(const char *d, size_t n, const char *key, size_t *ret_len)
{
        size_t k = strlen(key);

        for (size_t i = 0; i < n;) {
                const char *eol = memchr(d + i, '\n', n - i);
                assert(eol);
                if ((size_t)(eol - (d + i)) == k && memcmp(d + i, key, k) == 0) {
                        uint64_t len = 0;
                        for (int b = 7; b >= 0; b--)
                                len = len << 8 | (uint8_t)eol[1 + b];
                        *ret_len = len;
                        return eol + 9;
                }
                if (memcmp(d + i, key, k) == 0 && d[i + k] == '=') {
                        *ret_len = (size_t)(eol - (d + i + k + 1));
                        return d + i + k + 1;
                }
                if (!memchr(d + i, '=', (size_t)(eol - (d + i)))) { /* a binary field: skip its value */
                        uint64_t len = 0;
                        for (int b = 7; b >= 0; b--)
                                len = len << 8 | (uint8_t)eol[1 + b];
                        i = (size_t)(eol - d) + 9 + len + 1;
                } else
                        i = (size_t)(eol - d) + 1;
        }
        return NULL;
}

static bool field_is(const char *d, size_t n, const char *key, const char *want)
{
        size_t len;
        const char *v = field(d, n, key, &len);

        return v && len == strlen(want) && memcmp(v, want, len) == 0;
}

static void test_journal(void)
{
        char buf[8192], big[9000], num[16];
        LogLine l = line(LOG_LEVEL_ERR, ENOSPC, "write failed: No space left on device");
        size_t n, len;

        log_set_ident("test-log");
        n = log_format(buf, sizeof(buf), LOG_FORMAT_JOURNAL, &l);
        assert(field_is(buf, n, "PRIORITY", "3"));
        assert(field_is(buf, n, "SYSLOG_IDENTIFIER", "test-log"));
        assert(field_is(buf, n, "XBUS_COMPONENT", "node"));
        snprintf(num, sizeof(num), "%d", ENOSPC);
        assert(field_is(buf, n, "ERRNO", num));
        assert(field_is(buf, n, "CODE_FILE", "exchange/node/exchange.c"));
        assert(field_is(buf, n, "CODE_LINE", "42"));
        assert(field_is(buf, n, "CODE_FUNC", "exchange_logged"));
        assert(field_is(buf, n, "MESSAGE", "write failed: No space left on device"));
        /* a newline in the message: the binary form, length little-endian */
        l = line(LOG_LEVEL_INFO, 0, "two\nlines");
        n = log_format(buf, sizeof(buf), LOG_FORMAT_JOURNAL, &l);
        assert(memmem(buf, n, "MESSAGE\n\x09\0\0\0\0\0\0\0two\nlines\n", 26));
        assert(field_is(buf, n, "MESSAGE", "two\nlines") && !field(buf, n, "ERRNO", &len));
        /* too long: the message is cut, the datagram still parses */
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        l = line(LOG_LEVEL_ERR, 0, big);
        n = log_format(buf, 1024, LOG_FORMAT_JOURNAL, &l);
        assert(n < 1024 && field(buf, n, "MESSAGE", &len) && len > 800 && field_is(buf, n, "PRIORITY", "3"));
}

/* A socket where the journal would be; what xbus sends there, and stderr when it is gone. */
static void test_journal_socket(void)
{
        char dir[] = "/tmp/xbus-test-journal-XXXXXX", path[128], d[8192], text[1024];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char errpath[] = "/tmp/xbus-test-log-XXXXXX";
        int s, fd = mkstemp(errpath), saved = dup(2);
        struct stat st;
        char stream[64];
        ssize_t n;

        assert(mkdtemp(dir) && fd >= 0 && saved >= 0);
        snprintf(path, sizeof(path), "%s/socket", dir);
        strcpy(sa.sun_path, path);
        s = socket(AF_UNIX, SOCK_DGRAM, 0);
        assert(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        log_set_journal_socket(path);
        assert(dup2(fd, 2) == 2);

        /* auto: stderr is not the journal's stream, then it is ($JOURNAL_STREAM names its device and inode) */
        setenv("JOURNAL_STREAM", "1:2", 1);
        log_set_format(LOG_FORMAT_AUTO);
        assert(log_get_format() == LOG_FORMAT_TEXT);
        assert(fstat(2, &st) == 0);
        snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
        setenv("JOURNAL_STREAM", stream, 1);
        log_set_format(LOG_FORMAT_AUTO);
        assert(log_get_format() == LOG_FORMAT_JOURNAL);
        unsetenv("JOURNAL_STREAM");

        log_error_errno(EIO, "Cannot read \"%s\": %m", "x");
        n = recv(s, d, sizeof(d), MSG_DONTWAIT);
        assert(n > 0);
        assert(field_is(d, (size_t)n, "MESSAGE", "Cannot read \"x\": Input/output error"));
        assert(field_is(d, (size_t)n, "XBUS_COMPONENT", "util") && field_is(d, (size_t)n, "PRIORITY", "3"));
        assert(field_is(d, (size_t)n, "CODE_FUNC", "test_journal_socket"));

        /* the journal is gone: the line goes to stderr as text */
        close(s);
        unlink(path);
        log_info("still here");
        assert(dup2(saved, 2) == 2);
        n = pread(fd, text, sizeof(text) - 1, 0);
        assert(n > 0);
        text[n] = 0;
        assert(strstr(text, " test-log/util[") && strstr(text, "]: info: still here\n"));
        log_set_format(LOG_FORMAT_TEXT);
        log_set_journal_socket(LOG_JOURNAL_SOCKET);
        close(saved);
        close(fd);
        unlink(errpath);
        rmdir(dir);
}

static void test_format_names(void)
{
        assert(log_format_from_string("auto") == LOG_FORMAT_AUTO);
        assert(log_format_from_string("text") == LOG_FORMAT_TEXT);
        assert(log_format_from_string("json") == LOG_FORMAT_JSON);
        assert(log_format_from_string("journal") == LOG_FORMAT_JOURNAL);
        assert(log_format_from_string("JSON") == -EINVAL && log_format_from_string(NULL) == -EINVAL);
}

static void test_log_ratelimit(void)
{
        LogRatelimit rl = {};
        uint64_t t0 = 1000;
        unsigned suppressed = 99;

        /* a burst goes through, the rest is counted */
        for (unsigned i = 0; i < LOG_RATELIMIT_BURST; i++) {
                assert(log_ratelimit_check(&rl, t0 + i, &suppressed));
                assert(suppressed == 0);
        }
        for (unsigned i = 0; i < 5293; i++)
                assert(!log_ratelimit_check(&rl, t0 + LOG_RATELIMIT_INTERVAL_USEC - 1, &suppressed));
        assert(rl.suppressed == 5293);
        /* the next interval: the count is handed over once, then a fresh burst */
        assert(log_ratelimit_check(&rl, t0 + LOG_RATELIMIT_INTERVAL_USEC, &suppressed) && suppressed == 5293);
        assert(log_ratelimit_check(&rl, t0 + LOG_RATELIMIT_INTERVAL_USEC + 1, &suppressed) && suppressed == 0);
        assert(rl.suppressed == 0);
        /* a quiet template reports nothing */
        rl = (LogRatelimit){};
        assert(log_ratelimit_check(&rl, 5, &suppressed) && suppressed == 0);
        assert(log_ratelimit_check(&rl, 5 + 3 * LOG_RATELIMIT_INTERVAL_USEC, &suppressed) && suppressed == 0);
}

/* A storm of one error gives LOG_RATELIMIT_BURST lines on stderr; another message still goes out. */
static void test_log_storm(void)
{
        char path[] = "/tmp/xbus-test-log-XXXXXX", text[16384];
        int fd = mkstemp(path), saved = dup(2), lines = 0;
        ssize_t n;

        assert(fd >= 0 && saved >= 0);
        assert(dup2(fd, 2) == 2);
        log_set_format(LOG_FORMAT_TEXT);
        for (int i = 0; i < 5300; i++)
                log_error_errno(ENOSPC, "Exchange log write failed for \"%d\": %m", i);
        log_warning("another message");
        log_flush_suppressed(false); /* the interval has not ended: nothing yet */
        assert(dup2(saved, 2) == 2);
        n = pread(fd, text, sizeof(text) - 1, 0);
        assert(n > 0);
        text[n] = 0;
        for (char *p = text; (p = strchr(p, '\n')); p++)
                lines++;
        assert(lines == (int)LOG_RATELIMIT_BURST + 1);
        assert(strstr(text, ": error: Exchange log write failed for \"0\": No space left on device\n"));
        assert(strstr(text, ": warning: another message\n"));
        assert(dup2(fd, 2) == 2);
        log_flush_suppressed(true); /* at exit: everything held back is reported */
        assert(dup2(saved, 2) == 2);
        n = pread(fd, text, sizeof(text) - 1, 0);
        text[n] = 0;
        assert(strstr(text, ": error: suppressed 5290 similar messages (\"Exchange log write failed for"));
        close(saved);
        close(fd);
        unlink(path);
}

int main(void)
{
        test_format_names();
        test_text();
        test_json();
        test_journal();
        test_journal_socket();
        test_log_ratelimit();
        test_log_storm();
        printf("log: ok\n");
        return 0;
}
