/* console.h: the web console ("/ui/"): its static pages and the API they call, behind sign-in sessions
 *
 * The pages (ui/ in the source tree, compiled into the binary by
 * scripts/embed.py) are served with a strict Content-Security-Policy: only
 * the node's own scripts, styles and connections, no inline script, no
 * frames. They call, with the session cookie and the session's CSRF token in
 * the X-Xbus-Csrf header (docs/console.md):
 *
 *   POST /ui/api/login                  {"token":T} -> a session cookie, {"role","csrf",...}
 *   GET  /ui/api/session                the session (after a reload), POST /ui/api/logout
 *   GET  /ui/api/audit/...              auditor: the auditor API (api/audit-api.h) unchanged
 *   GET  /ui/api/audit/export           auditor: an export file for `xbus audit verify-export`
 *   GET  /ui/api/citizen/accesses       citizen: who accessed my data (?cursor=SEQ)
 *   GET  /ui/api/citizen/consents       citizen: my consents; POST .../consents/ID/revoke
 *   GET  /ui/api/citizen/entries/SEQ    citizen: one of my entries with its inclusion proof
 *   GET  /ui/api/operator/status        operator: the node's status (ConsoleApi.status)
 *   POST /ui/api/citizen-links          consent authority (mutual TLS): {"subject":ID} -> a citizen's link
 *
 * Every sign-in, refused sign-in and call is written to the operational log
 * (role, session handle, the staff actor; never a personal id, never a
 * query string) and counted (ConsoleCounters, shown by /metrics).
 */
#pragma once

#include <stdatomic.h>

#include <jansson.h>

#include "api/audit-api.h"
#include "api/consent-api.h"
#include "api/console-session.h"
#include "api/console-token.h"
#include "node/endpoint.h"

#define CONSOLE_PREFIX "/ui/"
#define CONSOLE_COOKIE "xbus_console"
#define CONSOLE_CSRF_HEADER "X-Xbus-Csrf"
/* a citizen link's lifetime when the consent authority asks for none, and the most it may ask */
#define CONSOLE_CITIZEN_LINK_DEFAULT_USEC (10ULL * 60 * 1000000)
/* the most entries an export from the console holds, built in memory on a worker (beyond: `xbus audit export`) */
#define CONSOLE_EXPORT_MAX 50000

typedef struct ConsoleCounters {
        _Atomic uint64_t signins[_CONSOLE_ROLE_MAX]; /* sessions opened, by role */
        _Atomic uint64_t refused;                    /* sign-ins refused (bad, expired, used links) */
        _Atomic uint64_t calls[_CONSOLE_ROLE_MAX];   /* API calls in sessions, by role */
        _Atomic uint64_t denied;                     /* calls refused: no session, wrong role, CSRF */
} ConsoleCounters;

/* What the console works on: the endpoint's userdata (borrowed pointers must outlive the endpoint). */
typedef struct ConsoleApi {
        ConsoleKey key;                              /* signs and checks links */
        ConsoleSessions *sessions;                   /* owned by whoever set up the console */
        AuditApi *audit;                             /* the auditor pages read through it */
        ConsentApi *consent;                         /* the citizen pages */
        int (*status)(void *userdata, json_t **ret); /* the operator page's facts (a new object) */
        void *status_userdata;
        ConsoleCounters counters;
} ConsoleApi;

/* console_handle(): the EndpointHandler for "/ui/"; req->userdata is a ConsoleApi. Return: 0 or -errno. */
int console_handle(const EndpointRequest *req, EndpointResponse *resp);

/* console_static_type(): the Content-Type of a console file by its name's ending (static), or NULL. */
const char *console_static_type(const char *name);
