/* http-exchange.c: one exchange on its worker, from the intake to the answer
 *
 * The life of one exchange, all on the worker thread that accepted it
 * (node/exchange.h says what each stage decides):
 *
 *   intake (rest.c, soap-front.c)   parse the request into ex->req
 *   http_exchange_run()             exchange_decide()
 *     refused   ->  exchange_log() ............................ (log writer thread)
 *     allowed   ->  exchange_route() .......................... (broker thread -> adapter)
 *   on_mailbox: ITEM_BUS            exchange_take_answer(), exchange_log() ... (log writer)
 *   on_mailbox: ITEM_LOG            exchange_logged(): the entry is durable (or the log
 *                                   failed) -> sign the receipt, send the answer
 *
 * Nothing here blocks: the worker's event loop serves every other connection
 * while an exchange waits for its adapter or for the fsync. Each step that
 * can wait has a bound (the service's timeout, the log's queue), so every
 * accepted request gets exactly one answer.
 */
#include <inttypes.h>
#include <stdio.h>

#include <event2/keyvalq_struct.h>

#include "http/http-internal.h"
#include "util/log.h"
#include "util/time-util.h"

HttpExchange *http_exchange_new(Worker *w, struct evhttp_request *req)
{
        HttpExchange *hx = calloc(1, sizeof(*hx));

        if (!hx) {
                wire_problem(req, PROBLEM_BUS_BUSY, "out of memory", NULL);
                return NULL;
        }
        hx->worker = w;
        hx->req = req;
        exchange_init(&hx->ex, w->node);
        w->in_flight++;
        return hx;
}

/* Free `hx` without counting it (the caller answered and counted), and let a stopping worker finish when it
 * was the last. */
void http_exchange_abandon(HttpExchange *hx)
{
        Worker *w = hx->worker;

        exchange_done(&hx->ex);
        free(hx);
        w->in_flight--;
        if (w->stopping && w->in_flight == 0)
                event_base_loopbreak(w->base);
}

/* The exchange was answered with `status` (what went on the wire): count it and free it. */
static void http_exchange_done(HttpExchange *hx, int status)
{
        metrics_exchange_done(hx->worker->node, &hx->ex, status);
        http_exchange_abandon(hx);
}

/* A forwarded exchange (node/exchange-internal.h): the provider node's evidence beside this node's. */
static void respond_forwarded(const Exchange *ex, struct evkeyvalq *h)
{
        const ForwardRequest *f = ex->fwd;
        char seq[32];

        if (!f)
                return;
        evhttp_add_header(h, "X-Bus-Provider-Node", f->target->id);
        if (f->receipt && ex->out.status >= 200 && ex->out.status < 300) {
                snprintf(seq, sizeof(seq), "%" PRIu64, f->provider_seq);
                evhttp_add_header(h, "X-Bus-Provider-Receipt", f->receipt);
                evhttp_add_header(h, "X-Bus-Provider-Log-Seq", seq);
        } else if (f->xroad_error)
                evhttp_add_header(h, "X-Road-Error", f->xroad_error); /* the provider node's refusal */
}

/*
 * The provider's answer, whatever its status (PR-REST §4.6 category 1), with its headers but the
 * deny-list and its content type (none when it sent none), the node's X-Road headers and, when
 * delivered (2xx), the receipt of its durable entry. Return: the status sent.
 */
static int respond_answered(HttpExchange *hx, const char *log_time)
{
        Exchange *ex = &hx->ex;
        struct evkeyvalq *h = evhttp_request_get_output_headers(hx->req);
        int status;

        if (ex->out.status >= 200 && ex->out.status < 300) {
                char *jws = NULL;
                int r = exchange_receipt(ex, log_time, &jws);
                if (r < 0) {
                        log_error_errno(r, "Signing the receipt for \"%s\" failed: %m", ex->req.xroad_id);
                        problem_set(&ex->out.problem, PROBLEM_INTERNAL_ERROR, "the receipt could not be signed");
                        ex->out.status = problem_status(PROBLEM_INTERNAL_ERROR);
                        return wire_refuse(hx->req, &ex->out.problem, hx);
                }
                evhttp_add_header(h, "X-Bus-Receipt", jws);
                atomic_fetch_add(&ex->node->counters.delivered, 1);
                free(jws);
        }
        if (!ex->req.soap)
                wire_provider_headers(ex->bus.headers, h);
        else
                evhttp_add_header(h, "Cache-Control", "no-store"); /* the node's own envelope */
        wire_exchange_headers(hx, h, true);
        respond_forwarded(ex, h);
        evhttp_add_header(h, "X-Bus-Log-Time", log_time);
        /* X-Road's SOAP answers, a provider's relayed Fault included, travel with HTTP 200; to the client's
         * node that forwarded it, with the exchange's status (a 2xx is the one with a receipt) */
        status = ex->req.soap && !ex->req.from_node ? 200 : ex->out.status;
        wire_send(hx->req, status, ex->bus.content_type[0] ? ex->bus.content_type : NULL, ex->bus.response,
                  ex->bus.response_size);
        return status;
}

/* The final outcome goes out: a problem, or the provider's answer. */
static void http_exchange_respond(HttpExchange *hx)
{
        Exchange *ex = &hx->ex;
        int status;

        if (ex->logged) {
                char seq[32], t[RFC3339_MAX];

                snprintf(seq, sizeof(seq), "%" PRIu64, ex->log.seq);
                evhttp_add_header(evhttp_request_get_output_headers(hx->req), "X-Bus-Log-Seq", seq);
                if (ex->out.problem.type == PROBLEM_NONE) {
                        status = respond_answered(hx, format_rfc3339(ex->log.time_usec, t));
                        http_exchange_done(hx, status);
                        return;
                }
        }
        status = wire_refuse(hx->req, &ex->out.problem, hx);
        http_exchange_done(hx, status);
}

static void http_exchange_log(HttpExchange *hx)
{
        hx->ex.t.log_sent = now_usec(CLOCK_MONOTONIC);
        if (exchange_log(&hx->ex, &hx->worker->mailbox, ITEM_LOG) != 0)
                http_exchange_respond(hx); /* not logged: answered at once, as not performed */
}

void http_exchange_run(HttpExchange *hx, const PolicyInput *pin, const Problem *form)
{
        Exchange *ex = &hx->ex;
        int r = exchange_decide(ex, pin, form);

        ex->t.decided = now_usec(CLOCK_MONOTONIC);
        if (r != 0) {
                http_exchange_log(hx);
                return;
        }
        if (exchange_route(ex, &hx->worker->mailbox, ITEM_BUS) != 0) {
                exchange_take_answer(ex);
                http_exchange_log(hx);
        }
}

void http_exchange_on_mailbox(evutil_socket_t fd, short what, void *userdata)
{
        Worker *w = userdata;
        MailboxItem *it = mailbox_drain(&w->mailbox);

        while (it) {
                MailboxItem *next = it->next;
                if (it->kind == ITEM_BUS) {
                        HttpExchange *hx = container_of(it, HttpExchange, ex.bus);
                        hx->ex.t.answered = now_usec(CLOCK_MONOTONIC);
                        exchange_take_answer(&hx->ex);
                        http_exchange_log(hx);
                } else if (it->kind == ITEM_LOG) {
                        HttpExchange *hx = container_of(it, HttpExchange, ex.log);
                        hx->ex.t.logged = now_usec(CLOCK_MONOTONIC);
                        exchange_logged(&hx->ex);
                        http_exchange_respond(hx);
                } else if (it->kind == ITEM_ENDPOINT)
                        frontdoor_endpoint_done(w, container_of(it, EndpointPending, item));
                it = next;
        }
}
