/* fetcher.c: signed registry snapshots: the one kept in the state folder, downloads on an interval, the swap */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "daemon/fetcher.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/strv.h"
#include "util/time-util.h"
#include "xbus-config.h"

#define FETCH_ETAG_MAX 256
#define FETCH_CONNECT_TIMEOUT_MS 10000
#define FETCH_ERRORS_LOGGED 5                             /* lines of a registry's errors in a refusal's log */
#define FETCH_JITTER_PERCENT 10                           /* each wait: the interval +- up to 10 % of it ... */
#define FETCH_JITTER_MAX_USEC (30ULL * 60 * USEC_PER_SEC) /* ... and at most 30 minutes */

DEFINE_TRIVIAL_CLEANUP_FUNC(CURL *, curl_easy_cleanup);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_slist *, curl_slist_free_all);

struct Fetcher {
        const Config *config;
        RegistryAnchors *anchors;
        char *state_file;
        CURL *curl;   /* one handle, kept: its connections are reused from one interval to the next */
        char **etags; /* per URL: the ETag it gave with the snapshot in force, or NULL */
        size_t n_urls;
        Registry *current; /* the registry in force (own reference); NULL before the first */
        Node *node;        /* once started */
        NodeSnapshotState state_logged;

        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* on CLOCK_MONOTONIC */
        bool wake;
        atomic_bool stop; /* read by libcurl's progress callback too */
};

/* ---- One download --------------------------------------------------------------------------- */

typedef struct Download {
        Fetcher *f;
        char *data;
        size_t size;
        bool too_large, oom;
        char etag[FETCH_ETAG_MAX];
} Download;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        Download *d = userdata;
        size_t n = size * nmemb;
        char *a;

        if (d->size + n > REGISTRY_SNAPSHOT_MAX + 2) { /* the JWS and a line end */
                d->too_large = true;
                return 0;
        }
        a = realloc(d->data, d->size + n + 1);
        if (!a) {
                d->oom = true;
                return 0;
        }
        d->data = a;
        memcpy(d->data + d->size, ptr, n);
        d->size += n;
        d->data[d->size] = 0;
        return n;
}

/* Keep the ETag of the answer (the last header block's: a 304 has its own). */
static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        Download *d = userdata;
        size_t n = size * nmemb, len = n;

        if (n >= 5 && strneq(ptr, "HTTP/", 5))
                d->etag[0] = 0;
        if (n > 5 && strncasecmp(ptr, "ETag:", 5) == 0) {
                const char *v = ptr + 5;

                len -= 5;
                while (len > 0 && (*v == ' ' || *v == '\t'))
                        v++, len--;
                while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
                        len--;
                if (len > 0 && len < sizeof(d->etag)) {
                        memcpy(d->etag, v, len);
                        d->etag[len] = 0;
                }
        }
        return n;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
        Download *d = userdata;

        return atomic_load(&d->f->stop) ? 1 : 0; /* stopping: abort */
}

/*
 * GET the i-th URL into *d. Return: the HTTP status (200, 304, ...), or -EIO
 * with `why` filled (no answer, TLS, too large, aborted).
 */
static long download(Fetcher *f, size_t i, Download *d, char *why, size_t why_size)
{
        const Config *c = f->config;
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        _cleanup_free_ char *inm = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        CURLcode cc;
        long status = 0;

        curl_easy_reset(f->curl);
        headers = curl_slist_append(NULL, "Accept: application/jose");
        if (headers && f->etags[i] && asprintf(&inm, "If-None-Match: %s", f->etags[i]) >= 0)
                headers = curl_slist_append(headers, inm);
        if (!headers) {
                snprintf(why, why_size, "out of memory");
                return -EIO;
        }
        curl_easy_setopt(f->curl, CURLOPT_URL, c->snapshot_urls[i]);
        curl_easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "https");
        curl_easy_setopt(f->curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(f->curl, CURLOPT_USERAGENT, "xbusd/" XBUS_VERSION);
        curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(f->curl, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, (long)c->snapshot_timeout_ms);
        curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)MIN(c->snapshot_timeout_ms, (uint64_t)FETCH_CONNECT_TIMEOUT_MS));
        curl_easy_setopt(f->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)REGISTRY_SNAPSHOT_MAX + 2);
        if (c->snapshot_ca)
                curl_easy_setopt(f->curl, CURLOPT_CAINFO, c->snapshot_ca);
        curl_easy_setopt(f->curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, d);
        curl_easy_setopt(f->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(f->curl, CURLOPT_HEADERDATA, d);
        curl_easy_setopt(f->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(f->curl, CURLOPT_XFERINFODATA, d);
        curl_easy_setopt(f->curl, CURLOPT_NOPROGRESS, 0L);
        cc = curl_easy_perform(f->curl);
        curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, NULL);
        if (cc == CURLE_OK) {
                curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
                return status;
        }
        snprintf(why, why_size, "%s",
                 d->too_large || cc == CURLE_FILESIZE_EXCEEDED ? "larger than the snapshot size limit"
                 : d->oom                                      ? "out of memory"
                 : errbuf[0]                                   ? errbuf
                                                               : curl_easy_strerror(cc));
        return -EIO;
}

/* ---- Keeping and swapping ------------------------------------------------------------------- */

/* Write the snapshot to the state folder: a temporary file, fsync, rename, fsync of the folder. */
static int store(Fetcher *f, const RegistrySnapshot *s)
{
        _cleanup_free_ char *tmp = NULL;
        int fd, dfd, r = 0;

        if (asprintf(&tmp, "%s.tmp", f->state_file) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < s->size && r == 0;) {
                ssize_t n = write(fd, s->compact + done, s->size - done);
                if (n < 0 && errno != EINTR)
                        r = -errno;
                else if (n > 0)
                        done += (size_t)n;
        }
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, f->state_file) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        dfd = open(f->config->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
        }
        return 0;
}

/* Install `reg` (the caller's reference is taken) as a reload does: the broker's allow-list, then the node's. */
static void swap_in(Fetcher *f, Registry *reg)
{
        const RegistrySnapshot *s = registry_snapshot(reg), *old = registry_snapshot(f->current);
        char created[RFC3339_MAX], expires[RFC3339_MAX];

        log_info("Registry snapshot version %" PRIu64 " (instance %s, created %s, expires %s, key %s) from \"%s\" "
                 "swapped in; it was version %" PRIu64 ".",
                 s->version, s->instance, format_rfc3339(s->created_usec, created),
                 format_rfc3339(s->expires_usec, expires), s->kid, strempty(s->source), old ? old->version : 0);
        registry_unref(f->current);
        f->current = registry_ref(reg);
        f->state_logged = NODE_SNAPSHOT_VALID;
        broker_set_registry(f->node->broker, reg); /* whose adapter keys may serve what */
        node_registry_swap(f->node, reg);
        atomic_fetch_add(&f->node->counters.reloads, 1);
}

static void count(Fetcher *f, NodeFetchResult result)
{
        if (f->node)
                atomic_fetch_add(&f->node->counters.snapshot_fetches[result], 1);
        if (f->node && (result == NODE_FETCH_ACCEPTED || result == NODE_FETCH_UNCHANGED))
                atomic_store(&f->node->snapshot_checked_usec, now_usec(CLOCK_REALTIME));
}

/* Log the first lines of a registry's errors, then what happened. */
static void log_errors(const char *errors)
{
        const char *p = errors;

        for (unsigned n = 0; p && *p && n < FETCH_ERRORS_LOGGED; n++) {
                size_t len = strcspn(p, "\n");
                log_warning("  %.*s", (int)len, p);
                p += len + (p[len] == '\n');
        }
}

/* Verify, judge and load the downloaded bytes `d` from URL `url`. Return: what became of them; *ret on ACCEPTED. */
static NodeFetchResult take(Fetcher *f, const char *url, Download *d, Registry **ret)
{
        _cleanup_(registry_snapshot_freep) RegistrySnapshot *s = NULL;
        _cleanup_free_ char *errors = NULL;
        const RegistrySnapshot *cur = registry_snapshot(f->current);
        char expires[RFC3339_MAX];
        int r;

        while (d->size > 0 && strchr(" \t\r\n", d->data[d->size - 1]))
                d->data[--d->size] = 0; /* what a publisher may add after the JWS */
        r = registry_snapshot_open(&s, f->anchors, d->data, d->size, url);
        if (r == 0)
                r = registry_snapshot_accept(cur, s, now_usec(CLOCK_REALTIME));
        if (r == REGISTRY_SNAPSHOT_UNCHANGED)
                return NODE_FETCH_UNCHANGED;
        if (r == 0)
                r = registry_snapshot_load(ret, &s, f->config->state_dir, &errors);
        if (r == 0)
                return NODE_FETCH_ACCEPTED;
        if (r > 0 && s)
                log_warning("Registry snapshot from \"%s\" refused: version %" PRIu64
                            " (expires %s): %s; version %" PRIu64 " keeps serving.",
                            url, s->version, format_rfc3339(s->expires_usec, expires), registry_snapshot_strerror(r),
                            cur ? cur->version : 0);
        else if (r > 0)
                log_warning("Registry snapshot from \"%s\" refused: %s; version %" PRIu64 " keeps serving.", url,
                            registry_snapshot_strerror(r), cur ? cur->version : 0);
        else
                log_warning_errno(r, "Registry snapshot from \"%s\" could not be checked: %m", url);
        log_errors(errors);
        return r == -ENOMEM ? NODE_FETCH_FAILED : NODE_FETCH_REFUSED;
}

/* Download from the i-th URL and act on it. Return: what became of it; *ret on ACCEPTED. */
static NodeFetchResult fetch_one(Fetcher *f, size_t i, Registry **ret)
{
        const char *url = f->config->snapshot_urls[i];
        Download d = { .f = f };
        NodeFetchResult res;
        char why[CURL_ERROR_SIZE + 64];
        long status;

        status = download(f, i, &d, why, sizeof(why));
        if (status == 304) {
                res = NODE_FETCH_UNCHANGED;
                if (f->node)
                        atomic_fetch_add(&f->node->counters.snapshot_not_modified, 1);
        } else if (status == 200)
                res = take(f, url, &d, ret);
        else {
                if (status > 0)
                        snprintf(why, sizeof(why), "HTTP status %ld", status);
                if (!atomic_load(&f->stop))
                        log_warning("Registry snapshot from \"%s\" could not be fetched: %s.", url, why);
                res = NODE_FETCH_FAILED;
        }
        /* the URL serves the snapshot in force (or the one about to be): ask it with its ETag next time */
        if (res == NODE_FETCH_ACCEPTED || (res == NODE_FETCH_UNCHANGED && status == 200)) {
                free(f->etags[i]);
                f->etags[i] = d.etag[0] ? strdup(d.etag) : NULL;
        }
        free(d.data);
        return res;
}

/* One round: the URLs in order until one serves the snapshot in force or a newer one. */
static void fetch_round(Fetcher *f)
{
        for (size_t i = 0; f->config->snapshot_urls[i] && !atomic_load(&f->stop); i++) {
                Registry *fresh = NULL;
                NodeFetchResult res = fetch_one(f, i, &fresh);
                int r;

                count(f, res);
                if (res == NODE_FETCH_UNCHANGED)
                        return;
                if (res != NODE_FETCH_ACCEPTED)
                        continue;
                r = store(f, registry_snapshot(fresh));
                if (r < 0)
                        log_warning_errno(r, "Cannot keep the registry snapshot in \"%s\": %m; it serves all the same.",
                                          f->state_file);
                swap_in(f, fresh);
                return;
        }
}

/* Say when the snapshot in force expires, and when its grace period ends (exchanges are refused from then). */
static void note_expiry(Fetcher *f)
{
        const RegistrySnapshot *s = registry_snapshot(f->current);
        NodeSnapshotState st = node_snapshot_state(f->current, f->node->snapshot_grace_usec, now_usec(CLOCK_REALTIME));
        char expires[RFC3339_MAX];

        if (st == f->state_logged)
                return;
        if (st == NODE_SNAPSHOT_EXPIRED)
                log_warning("Registry snapshot version %" PRIu64 " expired at %s: serving on it for the grace period "
                            "(%" PRIu64 " s) while fetching a fresh one.",
                            s->version, format_rfc3339(s->expires_usec, expires),
                            (uint64_t)(f->node->snapshot_grace_usec / USEC_PER_SEC));
        else if (st == NODE_SNAPSHOT_OUTDATED)
                log_error("Registry snapshot version %" PRIu64 " expired at %s and its grace period is over: new "
                          "exchanges are refused (registry_outdated) until a fresh snapshot comes.",
                          s->version, format_rfc3339(s->expires_usec, expires));
        f->state_logged = st;
}

/*
 * The wait until the next round: the interval, give or take up to FETCH_JITTER_PERCENT of it (at most
 * FETCH_JITTER_MAX_USEC), drawn anew each time, so that many nodes started together do not fetch in
 * lockstep. The mean is the interval.
 */
static uint64_t fetch_wait_usec(uint64_t interval_ms)
{
        uint64_t interval = interval_ms * USEC_PER_MSEC;
        uint64_t spread = MIN(interval * FETCH_JITTER_PERCENT / 100, (uint64_t)FETCH_JITTER_MAX_USEC);
        uint32_t rnd;

        if (spread == 0)
                return interval;
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd))
                rnd = (uint32_t)now_usec(CLOCK_MONOTONIC) ^ (uint32_t)getpid();
        return interval - spread + rnd % (2 * spread + 1);
}

static void *fetcher_thread(void *userdata)
{
        Fetcher *f = userdata;

        for (;;) {
                struct timespec deadline;
                uint64_t until;

                fetch_round(f);
                note_expiry(f);
                until = now_usec(CLOCK_MONOTONIC) + fetch_wait_usec(f->config->snapshot_interval_ms);
                deadline = (struct timespec){ .tv_sec = (time_t)(until / USEC_PER_SEC),
                                              .tv_nsec = (long)(until % USEC_PER_SEC * NSEC_PER_USEC) };
                pthread_mutex_lock(&f->lock);
                while (!f->wake && !atomic_load(&f->stop) &&
                       pthread_cond_timedwait(&f->cond, &f->lock, &deadline) != ETIMEDOUT)
                        ;
                f->wake = false;
                pthread_mutex_unlock(&f->lock);
                if (atomic_load(&f->stop))
                        return NULL;
        }
}

/* ---- Start and stop ------------------------------------------------------------------------- */

/* The snapshot kept in the state folder, if it still verifies and loads. Return: 0 (*ret may be NULL), -ENOMEM. */
static int load_kept(Fetcher *f, Registry **ret)
{
        _cleanup_(registry_snapshot_freep) RegistrySnapshot *s = NULL;
        _cleanup_free_ char *text = NULL, *errors = NULL;
        size_t size = 0;
        int r;

        *ret = NULL;
        r = read_full_file(f->state_file, REGISTRY_SNAPSHOT_MAX, &text, &size);
        if (r == -ENOENT)
                return 0;
        if (r == 0)
                r = registry_snapshot_open(&s, f->anchors, text, size, f->state_file);
        /* an expired one still starts the node: it serves for the grace period while a fresh one is fetched */
        if (r == 0)
                r = registry_snapshot_accept(NULL, s, now_usec(CLOCK_REALTIME));
        if (r == 0 || r == REGISTRY_SNAPSHOT_E_EXPIRED)
                r = registry_snapshot_load(ret, &s, f->config->state_dir, &errors);
        if (r == -ENOMEM)
                return r;
        if (r != 0) {
                log_warning("The registry snapshot kept in \"%s\" is refused (%s), ignoring.", f->state_file,
                            r > 0 ? registry_snapshot_strerror(r) : strerror(-r));
                log_errors(errors);
        }
        return 0;
}

static int anchors_load(Fetcher *f)
{
        int r = registry_anchors_new(&f->anchors);

        for (char **p = f->config->snapshot_anchors; r == 0 && p && *p; p++) {
                _cleanup_free_ char *why = NULL;

                r = registry_anchors_add_file(f->anchors, *p, &why);
                if (r < 0 && r != -ENOMEM)
                        return log_error_errno(r, "%s", why ? why : "Cannot load an anchor.");
        }
        if (r < 0)
                return log_error_errno(r, "Out of memory.");
        for (size_t i = 0; i < registry_anchors_count(f->anchors); i++)
                log_info("Registry anchor %s trusted.", registry_anchors_kid(f->anchors, i));
        return 0;
}

int fetcher_open(Fetcher **ret, const Config *c, bool fetch, Registry **ret_registry)
{
        _cleanup_(fetcher_freep) Fetcher *f = NULL;
        Registry *reg = NULL;
        size_t n = strv_length(c->snapshot_urls);
        int r;

        f = calloc(1, sizeof(*f));
        if (!f)
                return log_error_errno(ENOMEM, "Out of memory.");
        f->config = c;
        f->state_logged = NODE_SNAPSHOT_VALID;
        f->n_urls = n;
        f->etags = calloc(n + 1, sizeof(char *));
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) /* before any other thread runs */
                return log_error_errno(EIO, "Cannot initialise libcurl.");
        f->curl = curl_easy_init();
        if (!f->etags || !f->curl || asprintf(&f->state_file, "%s/" FETCHER_STATE_FILE, c->state_dir) < 0)
                return log_error_errno(ENOMEM, "Out of memory.");
        r = anchors_load(f);
        if (r == 0)
                r = load_kept(f, &reg);
        if (r < 0)
                return r;
        for (size_t i = 0; !reg && fetch && i < n; i++) {
                NodeFetchResult res = fetch_one(f, i, &reg);
                if (res == NODE_FETCH_ACCEPTED && (r = store(f, registry_snapshot(reg))) < 0)
                        log_warning_errno(r, "Cannot keep the registry snapshot in \"%s\": %m.", f->state_file);
        }
        if (!reg && fetch)
                return log_error_errno(ENOENT, "No registry: no snapshot kept in \"%s\", and none could be fetched.",
                                       f->state_file);
        if (reg) {
                const RegistrySnapshot *s = registry_snapshot(reg);
                log_info("Registry snapshot version %" PRIu64 " (instance %s) from \"%s\".", s->version, s->instance,
                         strempty(s->source));
                f->current = registry_ref(reg);
        }
        *ret_registry = reg;
        *ret = TAKE_PTR(f);
        return 0;
}

int fetcher_start(Fetcher *f, Node *node)
{
        pthread_condattr_t attr;
        int r;

        f->node = node;
        atomic_store(&node->snapshot_checked_usec, now_usec(CLOCK_REALTIME));
        pthread_mutex_init(&f->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&f->cond, &attr);
        pthread_condattr_destroy(&attr);
        /* the first round at once: the snapshot kept may be old */
        r = pthread_create(&f->thread, NULL, fetcher_thread, f);
        if (r != 0)
                return log_error_errno(r, "Cannot start the registry fetcher: %m");
        f->started = true;
        return 0;
}

void fetcher_wake(Fetcher *f)
{
        if (!f || !f->started)
                return;
        pthread_mutex_lock(&f->lock);
        f->wake = true;
        pthread_cond_signal(&f->cond);
        pthread_mutex_unlock(&f->lock);
}

Fetcher *fetcher_free(Fetcher *f)
{
        if (!f)
                return NULL;
        if (f->started) {
                pthread_mutex_lock(&f->lock);
                atomic_store(&f->stop, true);
                pthread_cond_signal(&f->cond);
                pthread_mutex_unlock(&f->lock);
                pthread_join(f->thread, NULL);
                pthread_cond_destroy(&f->cond);
                pthread_mutex_destroy(&f->lock);
        }
        registry_anchors_free(f->anchors);
        strv_free_n(f->etags, f->n_urls);
        registry_unref(f->current);
        if (f->curl)
                curl_easy_cleanup(f->curl);
        free(f->state_file);
        free(f);
        return NULL;
}
