/* log.c: the operational log (text or JSON lines on stderr, or the journal's native protocol; rate-limited) */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"
#include "util/parse.h"
#include "util/time-util.h"
#include "util/utf8.h"

static int max_level = -1;
static const char *ident = "xbus";
static atomic_int format = -1; /* LogFormat, resolved; -1: not chosen yet */
static const char *journal_path = LOG_JOURNAL_SOCKET;
static atomic_int journal_fd = -1;

/* The rate limit of one message template (its format string), in a small direct-mapped table. */
typedef struct LogTemplate {
        const char *fmt;
        int level;
        const char *file, *func; /* the call site, for the "suppressed" line */
        int line;
        LogRatelimit rl;
} LogTemplate;

static pthread_mutex_t templates_lock = PTHREAD_MUTEX_INITIALIZER;
static LogTemplate templates[64];

static const char *const level_names[] = {
        [LOG_LEVEL_ERR] = "error", [LOG_LEVEL_WARNING] = "warning", [LOG_LEVEL_NOTICE] = "notice",
        [LOG_LEVEL_INFO] = "info", [LOG_LEVEL_DEBUG] = "debug",
};

static const char *const format_names[_LOG_FORMAT_MAX] = {
        [LOG_FORMAT_AUTO] = "auto",
        [LOG_FORMAT_TEXT] = "text",
        [LOG_FORMAT_JSON] = "json",
        [LOG_FORMAT_JOURNAL] = "journal",
};

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        if (max_level < 0) {
                uint64_t v;

                max_level = parse_u64(getenv("XBUS_LOG_LEVEL"), 0, INT_MAX, &v) < 0 ? LOG_LEVEL_INFO : (int)v;
        }
        return max_level;
}

void log_set_ident(const char *s)
{
        ident = s;
}

int log_format_from_string(const char *s)
{
        for (int i = 0; s && i < _LOG_FORMAT_MAX; i++)
                if (streq(s, format_names[i]))
                        return i;
        return -EINVAL;
}

/* Whether stderr is the journal's stream: $JOURNAL_STREAM is "DEVICE:INODE" of it (systemd.exec(5)). */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM"), *colon = e ? strchr(e, ':') : NULL;
        char dev[32];
        uint64_t d, i;
        struct stat st;

        if (!colon || (size_t)(colon - e) >= sizeof(dev))
                return false;
        memcpy(dev, e, colon - e);
        dev[colon - e] = 0;
        return parse_u64(dev, 0, UINT64_MAX, &d) == 0 && parse_u64(colon + 1, 0, UINT64_MAX, &i) == 0 &&
               fstat(STDERR_FILENO, &st) == 0 && (uint64_t)st.st_dev == d && (uint64_t)st.st_ino == i;
}

void log_set_format(LogFormat f)
{
        if (f == LOG_FORMAT_AUTO || f < 0 || f >= _LOG_FORMAT_MAX)
                f = stderr_is_journal() ? LOG_FORMAT_JOURNAL : LOG_FORMAT_TEXT;
        atomic_store(&format, f);
}

LogFormat log_get_format(void)
{
        int f = atomic_load(&format);

        if (f < 0) {
                f = log_format_from_string(getenv("XBUS_LOG_FORMAT"));
                log_set_format(f < 0 ? LOG_FORMAT_AUTO : f);
                f = atomic_load(&format);
        }
        return f;
}

void log_set_journal_socket(const char *path)
{
        journal_path = path;
}

/* The component of a call site: the folder of its source file ("../exchange/node/exchange.c": "node"). */
static const char *component(const char *file, size_t *ret_len)
{
        const char *end = file ? strrchr(file, '/') : NULL, *start;

        if (!end) {
                *ret_len = 1;
                return "-";
        }
        for (start = end; start > file && start[-1] != '/'; start--)
                ;
        *ret_len = (size_t)(end - start);
        return start;
}

/* The call site's file without the build folder's "../" (as the source tree names it). */
static const char *source_path(const char *file)
{
        while (file && (strneq(file, "../", 3) || strneq(file, "./", 2)))
                file += file[1] == '/' ? 2 : 3;
        return file ? file : "";
}

static const char *level_name(int level)
{
        return level >= 0 && level < (int)ELEMENTSOF(level_names) && level_names[level] ? level_names[level] : "log";
}

/* A bounded output buffer: appends that do not fit are refused whole (o->full). */
typedef struct Out {
        char *p, *end;
        bool full;
} Out;

static size_t out_room(const Out *o)
{
        return o->end > o->p ? (size_t)(o->end - o->p) : 0;
}

static void out_put(Out *o, const char *s, size_t n)
{
        if (o->full || n > out_room(o)) {
                o->full = true;
                return;
        }
        memcpy(o->p, s, n);
        o->p += n;
}

static void out_printf(Out *o, const char *fmt, ...) _printf_(2, 3);
static void out_printf(Out *o, const char *fmt, ...)
{
        char tmp[512];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        out_put(o, tmp, n < 0 ? 0 : MIN((size_t)n, sizeof(tmp) - 1));
}

/* `n` bytes of `s` as the inside of a JSON string, as much as fits whole (invalid UTF-8: U+FFFD). */
static void out_json(Out *o, const char *s, size_t n)
{
        for (size_t i = 0; i < n && !o->full;) {
                unsigned char c = (unsigned char)s[i];
                size_t k = utf8_decode(s + i, n - i, NULL);
                char esc[8];

                if (c == '"' || c == '\\')
                        out_put(o, (char[]){ '\\', (char)c }, 2);
                else if (c == '\n')
                        out_put(o, "\\n", 2);
                else if (c < 0x20 || c == 0x7f) {
                        snprintf(esc, sizeof(esc), "\\u%04x", c);
                        out_put(o, esc, 6);
                } else if (k == 0) {
                        out_put(o, "\\ufffd", 6);
                        k = 1;
                } else
                        out_put(o, s + i, k);
                i += k ?: 1;
        }
}

static void out_time(Out *o, uint64_t usec)
{
        time_t sec = (time_t)(usec / USEC_PER_SEC);
        struct tm tm;

        gmtime_r(&sec, &tm);
        out_printf(o, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (unsigned)(usec % USEC_PER_SEC / 1000));
}

/* JSON: the fixed fields first and the message last, so that a cut message still leaves a valid line. */
static void format_json(Out *o, const LogLine *l)
{
        size_t clen;
        const char *comp = component(l->file, &clen);

        out_put(o, "{\"time\":\"", 9);
        out_time(o, l->realtime_usec);
        out_printf(o, "\",\"level\":\"%s\",\"program\":\"", level_name(l->level));
        out_json(o, ident, strlen(ident));
        out_printf(o, "\",\"pid\":%d,\"component\":\"", (int)getpid());
        out_json(o, comp, clen);
        out_put(o, "\",", 2);
        if (l->error)
                out_printf(o, "\"errno\":%d,", l->error);
        out_put(o, "\"message\":\"", 11);
        o->end -= 3; /* room for the end, whatever the message leaves */
        out_json(o, l->message, strlen(l->message));
        o->end += 3;
        o->full = false;
        out_put(o, "\"}\n", 3);
}

/* One journal field: KEY=value\n, or the binary form when the value holds a newline. */
static void out_field(Out *o, const char *key, const char *value, size_t n)
{
        uint8_t le[8];

        out_put(o, key, strlen(key));
        if (!memchr(value, '\n', n)) {
                out_put(o, "=", 1);
                out_put(o, value, n);
                out_put(o, "\n", 1);
                return;
        }
        for (int i = 0; i < 8; i++)
                le[i] = (uint8_t)((uint64_t)n >> (8 * i));
        out_put(o, "\n", 1);
        out_put(o, (const char *)le, 8); /* the length, little-endian */
        out_put(o, value, n);
        out_put(o, "\n", 1);
}

static void format_journal(Out *o, const LogLine *l)
{
        size_t clen, mlen = strlen(l->message), room;
        const char *comp = component(l->file, &clen);
        char num[32];

        snprintf(num, sizeof(num), "%d", l->level);
        out_field(o, "PRIORITY", num, strlen(num));
        out_field(o, "SYSLOG_IDENTIFIER", ident, strlen(ident));
        out_field(o, "XBUS_COMPONENT", comp, clen);
        if (l->error) {
                snprintf(num, sizeof(num), "%d", l->error);
                out_field(o, "ERRNO", num, strlen(num));
        }
        out_field(o, "CODE_FILE", source_path(l->file), strlen(source_path(l->file)));
        snprintf(num, sizeof(num), "%d", l->line);
        out_field(o, "CODE_LINE", num, strlen(num));
        out_field(o, "CODE_FUNC", l->func ? l->func : "", l->func ? strlen(l->func) : 0);
        /* MESSAGE last, cut to what is left: key, binary length form, newline */
        room = out_room(o);
        room = room > 18 ? room - 18 : 0;
        out_field(o, "MESSAGE", l->message, MIN(mlen, room));
}

size_t log_format(char *buf, size_t size, LogFormat f, const LogLine *l)
{
        Out o = { .p = buf, .end = buf + size - 1 };
        size_t clen;
        const char *comp;

        if (f == LOG_FORMAT_JSON)
                format_json(&o, l);
        else if (f == LOG_FORMAT_JOURNAL)
                format_journal(&o, l);
        else {
                comp = component(l->file, &clen);
                out_time(&o, l->realtime_usec);
                out_printf(&o, " %s/%.*s[%d]: %s: ", ident, (int)clen, comp, (int)getpid(), level_name(l->level));
                o.end -= 1;
                out_put(&o, l->message, MIN(strlen(l->message), out_room(&o)));
                o.end += 1;
                o.full = false;
                out_put(&o, "\n", 1);
        }
        *o.p = 0;
        return (size_t)(o.p - buf);
}

/* Send one datagram to the journal. Return: whether it was taken. */
static bool journal_send(const char *buf, size_t n)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = atomic_load(&journal_fd), expected = -1;

        if (strlen(journal_path) >= sizeof(sa.sun_path))
                return false;
        strcpy(sa.sun_path, journal_path);
        if (fd < 0) {
                fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return false;
                if (!atomic_compare_exchange_strong(&journal_fd, &expected, fd)) {
                        close(fd); /* another thread made one first */
                        fd = expected;
                }
        }
        return sendto(fd, buf, n, MSG_NOSIGNAL, (struct sockaddr *)&sa,
                      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(sa.sun_path) + 1)) == (ssize_t)n;
}

static void log_write(const LogLine *l)
{
        char buf[8192];
        LogFormat f = log_get_format();
        size_t n;

        if (f == LOG_FORMAT_JOURNAL) {
                n = log_format(buf, sizeof(buf), f, l);
                if (journal_send(buf, n))
                        return;
                f = LOG_FORMAT_TEXT; /* the journal is gone: stderr still reaches someone */
        }
        n = log_format(buf, sizeof(buf), f, l);
        (void)!write(STDERR_FILENO, buf, n);
}

static void log_write_suppressed(const LogTemplate *t, unsigned n)
{
        char msg[256];

        snprintf(msg, sizeof(msg), "suppressed %u similar messages (\"%.160s\")", n, t->fmt);
        log_write(&(LogLine){ .realtime_usec = now_usec(CLOCK_REALTIME),
                              .level = t->level,
                              .file = t->file,
                              .line = t->line,
                              .func = t->func,
                              .message = msg });
}

bool log_ratelimit_check(LogRatelimit *rl, uint64_t now, unsigned *ret_suppressed)
{
        *ret_suppressed = 0;
        if (rl->n == 0 || now - rl->begin >= LOG_RATELIMIT_INTERVAL_USEC) {
                *ret_suppressed = rl->suppressed;
                *rl = (LogRatelimit){ .begin = now, .n = 1 };
                return true;
        }
        if (rl->n < LOG_RATELIMIT_BURST) {
                rl->n++;
                return true;
        }
        rl->suppressed++;
        return false;
}

/* May a line of template `fmt` go out now? Reports what was held back first. */
static bool log_admit(int level, const char *fmt, const char *file, int line, const char *func)
{
        LogTemplate *t = &templates[((uintptr_t)fmt * 0x9E3779B97F4A7C15ULL) >> 58];
        LogTemplate old = {}, cur;
        unsigned suppressed;
        bool ok;

        pthread_mutex_lock(&templates_lock);
        if (t->fmt != fmt) {
                old = *t; /* another template had the slot: report its count, take the slot over */
                *t = (LogTemplate){ .fmt = fmt, .level = level, .file = file, .line = line, .func = func };
        }
        ok = log_ratelimit_check(&t->rl, now_usec(CLOCK_MONOTONIC), &suppressed);
        cur = *t;
        pthread_mutex_unlock(&templates_lock);
        if (old.rl.suppressed)
                log_write_suppressed(&old, old.rl.suppressed);
        if (suppressed)
                log_write_suppressed(&cur, suppressed);
        return ok;
}

void log_flush_suppressed(bool all)
{
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        for (size_t i = 0; i < ELEMENTSOF(templates); i++) {
                LogTemplate t = {};

                pthread_mutex_lock(&templates_lock);
                if (templates[i].rl.suppressed && (all || now - templates[i].rl.begin >= LOG_RATELIMIT_INTERVAL_USEC)) {
                        t = templates[i];
                        templates[i].rl.suppressed = 0;
                }
                pthread_mutex_unlock(&templates_lock);
                if (t.rl.suppressed)
                        log_write_suppressed(&t, t.rl.suppressed);
        }
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *fmt, ...)
{
        char message[2048];
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > log_get_max_level() || (level <= LOG_LEVEL_WARNING && !log_admit(level, fmt, file, line, func)))
                goto done;
        errno = error;
        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        log_write(&(LogLine){ .realtime_usec = now_usec(CLOCK_REALTIME),
                              .level = level,
                              .error = error,
                              .file = file,
                              .line = line,
                              .func = func,
                              .message = message });
done:
        errno = saved;
        return -error;
}
