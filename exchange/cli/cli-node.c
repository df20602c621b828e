/* cli-node.c: starting, finding and stopping a local node and its sample adapter */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli-http.h"
#include "cli/cli-common.h"
#include "cli/cli-node-state.h"
#include "cli/cli-node.h"
#include "cli/cli-table.h"
#include "util/macro.h"
#include "util/time-util.h"

#define HEALTH_TIMEOUT_MS 2000U
#define POLL_INTERVAL_MS 200U
#define SUBJECT_WAIT_MS 30000U
#define SUBJECT_OUTPUT_MAX 4096U
#define TAIL_BYTES 2048U

typedef struct Program {
        const char *binary; /* file name next to xbus */
        const char *stem;   /* STATE/<stem>.pid, STATE/<stem>.log */
} Program;

static const Program daemon_program = { "xbusd", "xbusd" };
static const Program adapter_program = { "xbus-adapter-sample", "adapter-sample" };

static void progress(const CliNodeOptions *o, const char *fmt, ...) _printf_(2, 3);
static void progress(const CliNodeOptions *o, const char *fmt, ...)
{
        va_list ap;

        if (!o->progress)
                return;
        va_start(ap, fmt);
        vfprintf(o->progress, fmt, ap);
        va_end(ap);
        fputc('\n', o->progress);
        fflush(o->progress);
}

int cli_node_program_path(const char *name, char **ret)
{
        char self[PATH_MAX], *slash;
        ssize_t n;

        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0)
                return -errno;
        if ((size_t)n >= sizeof(self) - 1)
                return -ENAMETOOLONG;
        self[n] = 0;
        slash = strrchr(self, '/');
        if (!slash)
                return -EINVAL;
        *slash = 0;
        if (asprintf(ret, "%s/%s", self, name) < 0)
                return -ENOMEM;
        return 0;
}

/* --- processes ----------------------------------------------------------- */

/*
 * Fork and exec `argv` with the given stdio, in a new session when asked.
 * Exec failures come back through a close-on-exec pipe, so "not started" is
 * told apart from "started and exited".
 */
static int spawn(char *const argv[], int in_fd, int out_fd, int err_fd, bool new_session, pid_t *ret_pid)
{
        int pipefd[2], child_errno = 0;
        ssize_t n;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                int e = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return e;
        }
        if (pid == 0) {
                int e;
                close(pipefd[0]);
                if (new_session)
                        setsid();
                signal(SIGPIPE, SIG_DFL);
                if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
                        goto child_fail;
                execv(argv[0], argv);
        child_fail:
                e = errno;
                (void)!write(pipefd[1], &e, sizeof(e));
                _exit(127);
        }
        close(pipefd[1]);
        do
                n = read(pipefd[0], &child_errno, sizeof(child_errno));
        while (n < 0 && errno == EINTR);
        close(pipefd[0]);
        if (n == sizeof(child_errno)) {
                waitpid(pid, NULL, 0);
                return -child_errno;
        }
        *ret_pid = pid;
        return 0;
}

static int pidfile_write(const char *path, pid_t pid)
{
        _cleanup_free_ char *tmp = NULL;
        FILE *f;

        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fprintf(f, "%ld\n", (long)pid);
        if (fclose(f) != 0 || rename(tmp, path) < 0) {
                int e = -errno;
                unlink(tmp);
                return e;
        }
        return 0;
}

/* Return: 0 with *ret, -ENOENT, -EBADMSG (not a pid). */
static int pidfile_read(const char *path, pid_t *ret)
{
        char buf[32];
        uint64_t v;
        size_t n;
        FILE *f;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = 0;
        if (parse_u64(buf, 2, INT_MAX, &v) < 0)
                return -EBADMSG;
        *ret = (pid_t)v;
        return 0;
}

/* Alive and not a zombie (in a container nobody may reap our orphans). */
static bool process_alive(pid_t pid)
{
        char path[64], buf[512], *close_paren;
        size_t n;
        FILE *f;

        if (kill(pid, 0) < 0 && errno != EPERM)
                return false;
        snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
        f = fopen(path, "re");
        if (!f)
                return errno != ENOENT;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        close_paren = strrchr(buf, ')');
        if (close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X'))
                return false;
        return true;
}

/* Is `pid` running `binary`? (/proc/PID/exe, or /proc/PID/comm when exe is not readable) */
static bool process_is(pid_t pid, const char *binary)
{
        char path[64], target[PATH_MAX], comm[32];
        const char *base;
        ssize_t n;
        size_t len;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
        n = readlink(path, target, sizeof(target) - 1);
        if (n >= 0) {
                target[n] = 0;
                len = (size_t)n;
                if (len > 10 && streq(target + len - 10, " (deleted)"))
                        target[len - 10] = 0;
                base = strrchr(target, '/');
                return streq(base ? base + 1 : target, binary);
        }
        snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
        f = fopen(path, "re");
        if (!f)
                return false;
        len = fread(comm, 1, sizeof(comm) - 1, f);
        fclose(f);
        comm[len] = 0;
        comm[strcspn(comm, "\n")] = 0;
        /* comm is cut at 15 characters */
        return strlen(comm) > 0 && strncmp(comm, binary, 15) == 0 && strlen(comm) == MIN(strlen(binary), 15U);
}

/* Wait until `pid` is gone (reaping it when it is our child). Return: true when gone. */
static bool wait_gone(pid_t pid, unsigned timeout_ms)
{
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * USEC_PER_MSEC;

        for (;;) {
                if (waitpid(pid, NULL, WNOHANG) == pid || !process_alive(pid))
                        return true;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return false;
                usleep(50 * 1000);
        }
}

/* SIGTERM, bounded wait, SIGKILL. Return: 0 stopped gently, 1 had to be killed. */
static int stop_pid(pid_t pid, unsigned timeout_ms)
{
        if (kill(pid, SIGTERM) < 0 && errno == ESRCH)
                return 0;
        if (wait_gone(pid, timeout_ms))
                return 0;
        kill(pid, SIGKILL);
        wait_gone(pid, 2000);
        return 1;
}

/* The last lines of a log file, sanitised, for an error message (malloc'd or NULL). */
static char *file_tail(const char *path)
{
        char buf[TAIL_BYTES + 1];
        ssize_t n;
        off_t size;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        size = lseek(fd, 0, SEEK_END);
        if (size < 0 || lseek(fd, size > (off_t)TAIL_BYTES ? size - (off_t)TAIL_BYTES : 0, SEEK_SET) < 0) {
                close(fd);
                return NULL;
        }
        n = read(fd, buf, TAIL_BYTES);
        close(fd);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        /* keep the control characters we want (newlines) by sanitising line by line */
        {
                _cleanup_free_ char *out = NULL;
                size_t size_out = 0;
                FILE *f = open_memstream(&out, &size_out);
                char *line, *save = NULL;
                if (!f)
                        return NULL;
                for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        _cleanup_free_ char *s = cli_sanitize(line, 512);
                        if (s)
                                fprintf(f, "    %s\n", s);
                }
                if (fclose(f) != 0)
                        return NULL;
                return TAKE_PTR(out);
        }
}

/* --- up ------------------------------------------------------------------ */

typedef struct Started {
        const Program *program;
        pid_t pid;
        char *pidfile, *logfile;
} Started;

static void started_done(Started *s)
{
        free(s->pidfile);
        free(s->logfile);
        *s = (Started){};
}

/* Start `p` with `args` and `more` (NULL-terminated; `more` may be NULL). */
static int start_program(const CliNodeOptions *o, const char *state, const Program *p, char *const args[],
                         char *const more[], Started *ret, char **ret_error)
{
        _cleanup_free_ char *binary = NULL, *pidfile = NULL, *logfile = NULL;
        char *argv[16];
        size_t n = 0;
        pid_t pid;
        int r, log_fd, null_fd;

        r = cli_node_program_path(p->binary, &binary);
        if (r < 0)
                return error_set(ret_error, r, "cannot find the folder of the xbus program: %s", strerror(-r));
        if (access(binary, X_OK) < 0)
                return error_set(ret_error, -errno, "cannot run \"%s\": %m (build it next to xbus)", binary);
        if (asprintf(&pidfile, "%s/%s.pid", state, p->stem) < 0 || asprintf(&logfile, "%s/%s.log", state, p->stem) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");

        argv[n++] = binary;
        for (size_t i = 0; args[i] && n < ELEMENTSOF(argv) - 1; i++)
                argv[n++] = args[i];
        for (size_t i = 0; more && more[i] && n < ELEMENTSOF(argv) - 1; i++)
                argv[n++] = more[i];
        argv[n] = NULL;

        log_fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log_fd < 0)
                return error_set(ret_error, -errno, "cannot open \"%s\": %m", logfile);
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0) {
                r = -errno;
                close(log_fd);
                return error_set(ret_error, r, "cannot open /dev/null: %s", strerror(-r));
        }
        r = spawn(argv, null_fd, log_fd, log_fd, true, &pid);
        close(log_fd);
        close(null_fd);
        if (r < 0)
                return error_set(ret_error, r, "cannot start \"%s\": %s", binary, strerror(-r));
        r = pidfile_write(pidfile, pid);
        if (r < 0) {
                stop_pid(pid, 2000);
                return error_set(ret_error, r, "cannot write \"%s\": %s", pidfile, strerror(-r));
        }
        progress(o, "started %s (pid %ld), output in %s", p->binary, (long)pid, logfile);
        *ret = (Started){
                .program = p,
                .pid = pid,
                .pidfile = TAKE_PTR(pidfile),
                .logfile = TAKE_PTR(logfile),
        };
        return 0;
}

/* A pid file whose process still runs that program. */
static bool program_running(const char *state, const Program *p)
{
        _cleanup_free_ char *pidfile = NULL;
        pid_t pid;

        if (asprintf(&pidfile, "%s/%s.pid", state, p->stem) < 0)
                return false;
        return pidfile_read(pidfile, &pid) == 0 && process_alive(pid) && process_is(pid, p->binary);
}

static void stop_started(const CliNodeOptions *o, Started *s)
{
        if (!s->program)
                return;
        progress(o, "stopping %s (pid %ld)", s->program->binary, (long)s->pid);
        stop_pid(s->pid, 5000);
        unlink(s->pidfile);
}

void cli_node_info_done(CliNodeInfo *i)
{
        if (!i)
                return;
        free(i->url);
        free(i->adapters_endpoint);
        *i = (CliNodeInfo){};
}

/*
 * The sample adapter's CURVE key files, which the node's demo PKI makes at
 * its start (each appears whole): waits for them (bounded by `deadline`).
 * Return: 0, 1 when the daemon we started exited meanwhile (the caller
 * reports it), or an error.
 */
static int curve_keys_wait(const char *state, const Started *daemon, uint64_t deadline, char **ret_server,
                           char **ret_secret, char **ret_error)
{
        siginfo_t info = {};

        if (asprintf(ret_server, "%s/pki/node-curve.pub", state) < 0 ||
            asprintf(ret_secret, "%s/pki/adapters/sample.key", state) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        while (access(*ret_server, R_OK) < 0 || access(*ret_secret, R_OK) < 0) {
                if (daemon->program && waitid(P_PID, (id_t)daemon->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                    info.si_pid == daemon->pid)
                        return 1;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return error_set(ret_error, CLI_NODE_E_TIMEOUT,
                                         "the node made no adapter keys (%s, %s) in time (see %s/xbusd.log)",
                                         *ret_server, *ret_secret, state);
                usleep(POLL_INTERVAL_MS * 1000);
        }
        return 0;
}

/* Where the node is, or is to be started (up_locate()). */
typedef struct UpPlan {
        const char *state;
        char *listen, *url, *adapters; /* malloc'd */
        bool running;                  /* a node of this state folder answers at url */
        bool starting;                 /* xbusd of this state folder is starting (its pid file) */
        unsigned adapters_seen;        /* as its /health said */
} UpPlan;

static void up_plan_done(UpPlan *p)
{
        free(p->listen);
        free(p->url);
        free(p->adapters);
        *p = (UpPlan){};
}

/* The node of this state folder answers at `url`: record it. */
static bool up_answers(UpPlan *p, const char *url)
{
        _cleanup_free_ char *error = NULL;
        int r = cli_node_health(url, p->state, HEALTH_TIMEOUT_MS, &p->adapters_seen, &error);

        /* unhealthy: it may lack the adapter started below */
        return r == 0 || r == CLI_NODE_E_UNHEALTHY;
}

/* "HOST:PORT" again with another port. */
static int with_port(const char *host, unsigned port, const char *scheme, char **ret)
{
        return asprintf(ret, "%s%s:%u", scheme, host, port) < 0 ? -ENOMEM : 0;
}

/*
 * The HTTPS address: a node of this state folder that answers there is
 * reused; a free port is used; a default port (o->listen NULL) that another
 * program holds is moved to a free one, and a port given is not.
 */
static int up_listen(const CliNodeOptions *o, UpPlan *p, char **ret_error)
{
        const char *listen = o->listen ? o->listen : CLI_NODE_DEFAULT_LISTEN;
        _cleanup_free_ char *host = NULL, *moved = NULL;
        unsigned port, other;
        int r, is_free;

        if (cli_node_url_from_listen(listen, &p->url) < 0 || cli_split_endpoint(listen, &host, &port) < 0)
                return error_set(ret_error, -EINVAL, "the listen address \"%s\" is not HOST:PORT", listen);
        p->listen = strdup(listen);
        if (!p->listen)
                return error_set(ret_error, -ENOMEM, "out of memory");
        is_free = cli_port_free(host, port);
        if (is_free < 0)
                return error_set(ret_error, is_free, "cannot listen on %s: %s", listen, strerror(-is_free));
        if (program_running(p->state, &daemon_program)) {
                p->starting = true;
                progress(o, "xbusd of %s is starting; waiting for it", p->state);
                return 0;
        }
        if (is_free)
                return 0;
        if (up_answers(p, p->url)) {
                p->running = true;
                progress(o, "a node already answers at %s (%u adapter%s); reusing it", p->url, p->adapters_seen,
                         p->adapters_seen == 1 ? "" : "s");
                return 0;
        }
        if (o->listen)
                return error_set(ret_error, CLI_NODE_E_TAKEN,
                                 "port %u (%s) is taken by another program, which is not the xbus node of \"%s\": "
                                 "give another port (--port N, or XBUS_PORT=N), or none to have a free one picked",
                                 port, listen, p->state);
        r = cli_port_pick(host, port, 0, &other);
        if (r < 0)
                return error_set(ret_error, r, "port %u is taken and no other is free: %s", port, strerror(-r));
        progress(o, "port %u is taken by another program: the node listens on port %u instead", port, other);
        free(p->listen);
        free(p->url);
        p->url = NULL;
        p->listen = NULL;
        if (with_port(host, other, "", &p->listen) < 0 || cli_node_url_from_listen(p->listen, &p->url) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        return 0;
}

/* The adapter endpoint of a node to start: as given, or the default moved to a free port when taken. */
static int up_adapters(const CliNodeOptions *o, UpPlan *p, char **ret_error)
{
        const char *ep = o->adapters ? o->adapters : CLI_NODE_DEFAULT_ADAPTERS;
        _cleanup_free_ char *host = NULL, *hp = NULL;
        unsigned port, other, https = 0;
        int r;

        p->adapters = strdup(ep);
        if (!p->adapters)
                return error_set(ret_error, -ENOMEM, "out of memory");
        if (p->running || p->starting || cli_split_endpoint(ep, &host, &port) < 0)
                return 0; /* another transport than tcp:// is xbusd's to check */
        r = cli_port_free(host, port);
        if (r != 0)
                return 0; /* free, or xbusd says why it cannot bind */
        if (o->adapters)
                return error_set(ret_error, CLI_NODE_E_TAKEN,
                                 "port %u (%s) is taken by another program: give another one (--adapters-port N, or "
                                 "XBUS_ADAPTERS_PORT=N), or none to have a free one picked",
                                 port, ep);
        if (cli_split_endpoint(p->listen, &hp, &https) < 0)
                https = 0;
        r = cli_port_pick(host, port, https, &other);
        if (r < 0)
                return error_set(ret_error, r, "port %u is taken and no other is free: %s", port, strerror(-r));
        progress(o, "port %u is taken by another program: adapters connect on port %u instead", port, other);
        free(p->adapters);
        p->adapters = NULL;
        return with_port(host, other, "tcp://", &p->adapters) < 0 ? error_set(ret_error, -ENOMEM, "out of memory") : 0;
}

/* Where the node is or will be: the one the state file names if it answers, else up_listen() and up_adapters(). */
static int up_locate(const CliNodeOptions *o, UpPlan *p, char **ret_error)
{
        CliNodeState recorded = {};
        int r;

        if (!o->listen && cli_node_state_read(p->state, &recorded) == 0) {
                if (up_answers(p, recorded.url)) {
                        p->running = true;
                        p->url = TAKE_PTR(recorded.url);
                        p->adapters = o->adapters ? strdup(o->adapters) : TAKE_PTR(recorded.adapters);
                        cli_node_state_done(&recorded);
                        progress(o, "the node of %s answers at %s (%u adapter%s); reusing it", p->state, p->url,
                                 p->adapters_seen, p->adapters_seen == 1 ? "" : "s");
                        r = cli_node_listen_from_url(p->url, &p->listen);
                        return r < 0 || !p->adapters ? error_set(ret_error, -ENOMEM, "out of memory") : 0;
                }
                cli_node_state_done(&recorded);
                cli_node_state_remove(p->state); /* a node that is gone */
        }
        r = up_listen(o, p, ret_error);
        return r < 0 || r > 0 ? r : up_adapters(o, p, ret_error);
}

/* Start xbusd as the plan says, with the configuration, state folder and registry of `o`. */
static int up_start_daemon(const CliNodeOptions *o, const UpPlan *p, Started *ret, char **ret_error)
{
        char *args[16];
        size_t n = 0;

        if (o->config) {
                args[n++] = "--config";
                args[n++] = (char *)o->config;
        }
        if (o->registry) {
                args[n++] = "--registry";
                args[n++] = (char *)o->registry;
        }
        args[n++] = "--state-dir";
        args[n++] = (char *)p->state;
        args[n++] = "--listen";
        args[n++] = p->listen;
        args[n++] = "--adapters";
        args[n++] = p->adapters;
        args[n] = NULL;
        return start_program(o, p->state, &daemon_program, args, NULL, ret, ret_error);
}

/* Until the node is ready (with an adapter, unless none is wanted), or a started program exits, or the time is up. */
static int up_wait(const CliNodeOptions *o, UpPlan *p, Started *daemon, Started *adapter, uint64_t deadline,
                   unsigned wait_ms, char **ret_error)
{
        _cleanup_free_ char *error = NULL;
        int r;

        for (;;) {
                Started *all[] = { daemon, adapter };
                for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                        int status;
                        if (all[i]->program && waitpid(all[i]->pid, &status, WNOHANG) == all[i]->pid) {
                                _cleanup_free_ char *tail = file_tail(all[i]->logfile);
                                r = error_set(ret_error, CLI_NODE_E_EXITED, "%s exited (%s %d); the end of %s:\n%s",
                                              all[i]->program->binary, WIFEXITED(status) ? "status" : "signal",
                                              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                                              all[i]->logfile, tail ? tail : "    (empty)\n");
                                unlink(all[i]->pidfile);
                                *all[i] = (Started){ .pidfile = all[i]->pidfile, .logfile = all[i]->logfile };
                                started_done(all[i]);
                                return r;
                        }
                }
                error = mfree(error);
                r = cli_node_health(p->url, p->state, HEALTH_TIMEOUT_MS, &p->adapters_seen, &error);
                if ((r == 0 && p->adapters_seen > 0) || (o->no_sample && (r == 0 || r == CLI_NODE_E_UNHEALTHY)))
                        return 0;
                if (r == -ENOMEM)
                        return error_set(ret_error, r, "out of memory");
                /* otherwise keep trying: the node may still be starting */
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return error_set(ret_error, CLI_NODE_E_TIMEOUT,
                                         "the node was not ready within %u s: %s (see %s/xbusd.log and "
                                         "%s/adapter-sample.log)",
                                         wait_ms / 1000,
                                         r == 0 ? "it answers /health but reports no adapter" : strempty(error),
                                         p->state, p->state);
                usleep(POLL_INTERVAL_MS * 1000);
        }
}

int cli_node_up(const CliNodeOptions *o, CliNodeInfo *ret, char **ret_error)
{
        uint64_t people = o->people ? o->people : CLI_NODE_DEFAULT_PEOPLE;
        unsigned wait_ms = o->wait_ms ? o->wait_ms : CLI_NODE_UP_WAIT_MS;
        _cleanup_free_ char *sample_dir = NULL, *server = NULL, *secret = NULL;
        UpPlan p = { .state = o->state_dir ? o->state_dir : CLI_NODE_DEFAULT_STATE };
        Started daemon = {}, adapter = {};
        char people_text[32];
        uint64_t deadline;
        int r;

        if (people > CLI_NODE_MAX_PEOPLE)
                return error_set(ret_error, -EINVAL, "--people must be 1..%llu",
                                 (unsigned long long)CLI_NODE_MAX_PEOPLE);
        if (o->adapters && (isempty(o->adapters) || strlen(o->adapters) > 256 || !strstr(o->adapters, "://") ||
                            strpbrk(o->adapters, " \t\r\n")))
                return error_set(ret_error, -EINVAL,
                                 "the adapter endpoint \"%s\" is not a ZeroMQ endpoint (tcp://HOST:PORT)", o->adapters);
        if (mkdir(p.state, 0700) < 0 && errno != EEXIST)
                return error_set(ret_error, -errno, "cannot create the state folder \"%s\": %m", p.state);
        if (asprintf(&sample_dir, "%s/sample", p.state) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        snprintf(people_text, sizeof(people_text), "%" PRIu64, people);

        r = up_locate(o, &p, ret_error);
        if (r == 0 && !p.running && !p.starting)
                r = up_start_daemon(o, &p, &daemon, ret_error);
        if (r != 0) {
                up_plan_done(&p);
                return r;
        }

        deadline = now_usec(CLOCK_MONOTONIC) + (uint64_t)wait_ms * USEC_PER_MSEC;
        if (!o->no_sample && !(p.running && p.adapters_seen > 0) && !program_running(p.state, &adapter_program)) {
                char *args[] = { "--bus", p.adapters, "--data", sample_dir, "--people", people_text, NULL };
                char *keys[] = { "--curve-server-key-file", NULL, "--curve-secret-key-file", NULL, NULL };

                r = curve_keys_wait(p.state, &daemon, deadline, &server, &secret, ret_error);
                if (r < 0)
                        goto fail;
                keys[1] = server;
                keys[3] = secret;
                r = r == 0 ? start_program(o, p.state, &adapter_program, args, keys, &adapter, ret_error) : 0;
                if (r < 0)
                        goto fail;
        }
        r = up_wait(o, &p, &daemon, &adapter, deadline, wait_ms, ret_error);
        if (r != 0)
                goto fail;
        if (cli_node_state_write(p.state, p.url, p.adapters) < 0)
                progress(o, "(could not write %s/%s: other commands will need --url)", p.state, CLI_NODE_STATE_FILE);

        progress(o, "the node at %s is ready (%u adapter%s)", p.url, p.adapters_seen, p.adapters_seen == 1 ? "" : "s");
        *ret = (CliNodeInfo){
                .url = TAKE_PTR(p.url),
                .adapters_endpoint = TAKE_PTR(p.adapters),
                .reused = p.running,
                .started_daemon = daemon.program != NULL,
                .started_adapter = adapter.program != NULL,
                .adapters = p.adapters_seen,
        };
        started_done(&daemon);
        started_done(&adapter);
        up_plan_done(&p);
        return 0;

fail:
        stop_started(o, &adapter);
        stop_started(o, &daemon);
        started_done(&daemon);
        started_done(&adapter);
        up_plan_done(&p);
        return r;
}

/* --- down ---------------------------------------------------------------- */

int cli_node_down(const char *state_dir, FILE *out, char **ret_error)
{
        const Program *order[] = { &adapter_program, &daemon_program };
        const char *state = state_dir ? state_dir : CLI_NODE_DEFAULT_STATE;
        bool any = false;

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                _cleanup_free_ char *pidfile = NULL;
                pid_t pid;
                int r;

                if (asprintf(&pidfile, "%s/%s.pid", state, order[i]->stem) < 0)
                        return error_set(ret_error, -ENOMEM, "out of memory");
                r = pidfile_read(pidfile, &pid);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        if (out)
                                fprintf(out, "%s: not a pid file (%s), removing it\n", pidfile, strerror(-r));
                        unlink(pidfile);
                        continue;
                }
                any = true;
                if (!process_alive(pid) || !process_is(pid, order[i]->binary)) {
                        if (out)
                                fprintf(out, "%s (pid %ld) is not running%s; removing %s\n", order[i]->binary,
                                        (long)pid,
                                        process_alive(pid) ? " (the pid now belongs to another program, left alone)"
                                                           : "",
                                        pidfile);
                        unlink(pidfile);
                        continue;
                }
                if (out) {
                        fprintf(out, "stopping %s (pid %ld)...", order[i]->binary, (long)pid);
                        fflush(out);
                }
                r = stop_pid(pid, CLI_NODE_DOWN_WAIT_MS);
                if (out)
                        fprintf(out, r ? " killed (it did not stop within %u s)\n" : " stopped\n",
                                CLI_NODE_DOWN_WAIT_MS / 1000);
                if (process_alive(pid))
                        return error_set(ret_error, -EBUSY, "%s (pid %ld) is still running", order[i]->binary,
                                         (long)pid);
                unlink(pidfile);
        }
        cli_node_state_remove(state);
        if (!any && out)
                fprintf(out, "nothing to stop: no pid files in %s\n", state);
        return 0;
}

/* --- the demo subject ---------------------------------------------------- */

int cli_node_subject_id(const char *state_dir, uint64_t people, char out[13], char **ret_error)
{
        const char *state = state_dir ? state_dir : CLI_NODE_DEFAULT_STATE;
        _cleanup_free_ char *binary = NULL, *sample_dir = NULL;
        char people_text[32], buf[SUBJECT_OUTPUT_MAX + 1];
        size_t used = 0;
        uint64_t deadline;
        int pipefd[2], null_fd, status = 0, r;
        bool timed_out = false;
        pid_t pid;

        r = cli_node_program_path(adapter_program.binary, &binary);
        if (r < 0)
                return error_set(ret_error, r, "cannot find the folder of the xbus program: %s", strerror(-r));
        if (asprintf(&sample_dir, "%s/sample", state) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        snprintf(people_text, sizeof(people_text), "%" PRIu64, people ? people : (uint64_t)CLI_NODE_DEFAULT_PEOPLE);
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return error_set(ret_error, -errno, "pipe: %m");
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return error_set(ret_error, r, "cannot open /dev/null: %s", strerror(-r));
        }
        {
                char *argv[] = { binary, "--print-ids", "1", "--data", sample_dir, "--people", people_text, NULL };
                r = spawn(argv, null_fd, pipefd[1], pipefd[1], false, &pid);
        }
        close(null_fd);
        close(pipefd[1]);
        if (r < 0) {
                close(pipefd[0]);
                return error_set(ret_error, r, "cannot run \"%s\": %s", binary, strerror(-r));
        }

        deadline = now_usec(CLOCK_MONOTONIC) + (uint64_t)SUBJECT_WAIT_MS * USEC_PER_MSEC;
        for (;;) {
                struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                ssize_t n;

                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                if (poll(&p, 1, (int)((deadline - now) / USEC_PER_MSEC) + 1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (used >= SUBJECT_OUTPUT_MAX)
                        break; /* enough: the id is on the first line */
                n = read(pipefd[0], buf + used, SUBJECT_OUTPUT_MAX - used);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                used += (size_t)n;
        }
        close(pipefd[0]);
        buf[used] = 0;
        if (timed_out)
                kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        if (timed_out)
                return error_set(ret_error, -ETIMEDOUT, "\"%s --print-ids 1\" did not answer within %u s", binary,
                                 SUBJECT_WAIT_MS / 1000);

        buf[strcspn(buf, "\r\n")] = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || strlen(buf) != 12 || strspn(buf, "0123456789") != 12) {
                _cleanup_free_ char *first = cli_sanitize(buf, 200);
                return error_set(ret_error, -EBADMSG, "\"%s --print-ids 1\" did not print an id (%s)", binary,
                                 first && *first ? first : "no output");
        }
        memcpy(out, buf, 13);
        return 0;
}
