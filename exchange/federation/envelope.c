/* envelope.c: the forward envelope a client node signs, its check by the provider node, the receipt's check */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto/jws.h"
#include "federation/envelope.h"
#include "util/macro.h"

#define RECEIPT_TYP "xbus-receipt+jws"

/* Sign the claims `o` (taken; NULL: out of memory, or a string that is not UTF-8: callers check them) as `typ`. */
static int sign_claims(const Signer *s, const char *typ, json_t *o, char **ret)
{
        _cleanup_free_ char *text = NULL;

        if (!o)
                return -ENOMEM;
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        return signer_sign_compact(s, typ, text, strlen(text), ret);
}

int forward_envelope_sign(const Signer *s, const ForwardClaims *c, char **ret)
{
        json_t *o;

        if (!s || !c->node || !c->to || !c->client || !c->service || !c->method || !c->target || !c->xroad_id ||
            !c->request_hash)
                return -EINVAL;
        o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "v", 1, "node", c->node, "to", c->to, "client",
                      c->client, "service", c->service, "method", c->method, "target", c->target, "xroad_id",
                      c->xroad_id, "request_hash", c->request_hash, "iat", (json_int_t)(c->time_usec / 1000000ULL));
        return sign_claims(s, FORWARD_TYP, o, ret);
}

#define refuse(p, ...) problem_set(p, PROBLEM_NODE_REFUSED, __VA_ARGS__)

/* The string member `name` of `o`, or "" (never NULL: compared with streq). */
static const char *member(const json_t *o, const char *name)
{
        const char *v = json_string_value(json_object_get(o, name));

        return v ? v : "";
}

/* Whether `kid` is the receipt key of `n`. */
static bool node_has_kid(const RegistryNode *n, const char *kid)
{
        return n && n->receipt_verifier && kid && streq(jws_verifier_kid(n->receipt_verifier), kid);
}

/* What tells a node's two envelopes apart: a forward's and a node call's. */
typedef struct EnvelopeKind {
        const char *typ;    /* the JWS "typ" */
        const char *header; /* the HTTP header that carries it */
        const char *noun;   /* what refusals call it */
        const char *sender; /* what refusals call the node that sent it */
        const char *what;   /* what a JWS of another typ is told */
} EnvelopeKind;

static const EnvelopeKind FORWARD = { FORWARD_TYP, FORWARD_HEADER, "envelope", "forwarding", "not a forward envelope" };
static const EnvelopeKind NODE_CALL = { NODE_CALL_TYP, NODE_CALL_HEADER, "call", "calling",
                                        "not a node-call envelope" };

/*
 * What both envelopes must be: sent over TLS by a node the snapshot pins
 * (`peer_fp`), signed by that node's receipt key as `k`, version 1 of that
 * node, addressed to this node (`self_kid`). Return: 0 with *ret_from and
 * *ret_claims (owned), 1 with *p, or -ENOMEM.
 */
static int envelope_open(const Registry *reg, const char *self_kid, const uint8_t *peer_fp, const char *jws,
                         const EnvelopeKind *k, const RegistryNode **ret_from, json_t **ret_claims, Problem *p)
{
        _cleanup_(json_decrefp) json_t *header = NULL, *claims = NULL;
        const RegistryNode *from = peer_fp ? registry_node_by_fingerprint(reg, peer_fp) : NULL;
        int r;

        if (!from)
                return refuse(p, "the %s node's TLS certificate is not any node's in the registry snapshot", k->sender);
        if (!jws)
                return refuse(p, "node '%s' sent no %s envelope", from->id, k->header);
        r = jws_verify_compact_once(from->receipt_verifier, jws, strlen(jws), &header, &claims);
        if (r == -ENOMEM)
                return r;
        if (r != 0 || !streq(member(header, "typ"), k->typ))
                return refuse(p, "the %s does not verify with node '%s''s key: %s", k->noun, from->id,
                              r > 0 ? jws_strerror(r) : k->what);
        if (json_integer_value(json_object_get(claims, "v")) != 1 || !streq(member(claims, "node"), from->id))
                return refuse(p, "the %s of node '%s' is not a version 1 %s of that node", k->noun, from->id, k->noun);
        if (!node_has_kid(registry_node_lookup(reg, member(claims, "to")), self_kid))
                return refuse(p, "node '%s' sent a %s meant for node '%.64s', not this one", from->id, k->noun,
                              member(claims, "to"));
        *ret_from = from;
        *ret_claims = TAKE_PTR(claims);
        return 0;
}

/* The envelope's time ("iat") within FORWARD_SKEW_USEC of `now_usec`. Return: 0, or 1 with *p. */
static int envelope_fresh(const EnvelopeKind *k, const RegistryNode *from, const json_t *c, uint64_t now_usec,
                          Problem *p)
{
        json_int_t iat = json_integer_value(json_object_get(c, "iat"));
        uint64_t t = iat > 0 ? (uint64_t)iat * 1000000ULL : 0;

        if (t == 0 || (t > now_usec ? t - now_usec : now_usec - t) > FORWARD_SKEW_USEC)
                return refuse(p, "the %s of node '%s' is not from now (clock skew over 300 s)", k->noun, from->id);
        return 0;
}

/* The forward envelope's members against the request that carried it. Return: 0, or 1 with *p. */
static int check_claims(const Registry *reg, const RegistryNode *from, const json_t *c, const ForwardClaims *expect,
                        uint64_t now_usec, const RegistrySubsystem **ret_client, Problem *p)
{
        const RegistrySubsystem *client;

        if (!expect->client || !streq(member(c, "client"), expect->client))
                return refuse(p, "node '%s' vouches for client '%.255s', not the one X-Road-Client names", from->id,
                              member(c, "client"));
        client = registry_subsystem_lookup(reg, expect->client);
        if (!client || registry_node_hosting(reg, client->id) != from)
                return refuse(p, "node '%s' forwarded for client '%.255s', which it does not host", from->id,
                              expect->client);
        if (!streq(member(c, "method"), expect->method) || !streq(member(c, "target"), expect->target) ||
            !streq(member(c, "xroad_id"), expect->xroad_id) || !streq(member(c, "request_hash"), expect->request_hash))
                return refuse(p,
                              "the envelope of node '%s' does not match the request (method, target, X-Road-Id "
                              "or body)",
                              from->id);
        if (envelope_fresh(&FORWARD, from, c, now_usec, p))
                return 1;
        *ret_client = client;
        return 0;
}

int forward_envelope_check(const Registry *reg, const char *self_kid, const uint8_t *peer_fp, const char *jws,
                           const ForwardClaims *expect, uint64_t now_usec, const RegistrySubsystem **ret_client,
                           const RegistryNode **ret_node, Problem *p)
{
        _cleanup_(json_decrefp) json_t *claims = NULL;
        const RegistryNode *from = NULL;
        int r;

        r = envelope_open(reg, self_kid, peer_fp, jws, &FORWARD, &from, &claims, p);
        if (r == 0)
                r = check_claims(reg, from, claims, expect, now_usec, ret_client, p);
        if (r == 0)
                *ret_node = from;
        return r;
}

/* The receipt's members name the exchange `e` describes, and a sequence number. */
static bool receipt_names(const json_t *claims, const ReceiptExpect *e)
{
        json_t *seq = json_object_get(claims, "seq");

        return streq(member(claims, "xroad_id"), e->xroad_id) && streq(member(claims, "client"), e->client) &&
               streq(member(claims, "service"), e->service) && streq(member(claims, "request_hash"), e->request_hash) &&
               streq(member(claims, "response_hash"), e->response_hash) && json_is_integer(seq) &&
               json_integer_value(seq) >= 0;
}

/* The origin named in `node`'s checkpoint key (a C2SP vkey "NAME+HASH+KEY"), compared with `origin`. */
static bool node_has_origin(const RegistryNode *node, const char *origin)
{
        size_t len = strlen(origin);

        return !node->checkpoint_vkey ||
               (strneq(node->checkpoint_vkey, origin, len) && node->checkpoint_vkey[len] == '+');
}

/* A receipt of the group-commit form: the head (once per batch, through `heads`), the entry under it. */
static int receipt_open_batch(const RegistryNode *node, const char *receipt, HeadCache *heads, json_t **ret_entry,
                              char *why, size_t why_size)
{
        _cleanup_(batch_receipt_freep) BatchReceipt *br = NULL;
        BatchHead h;
        int r;

        r = batch_receipt_parse(receipt, strlen(receipt), &br);
        if (r < 0)
                return r;
        if (r > 0) {
                snprintf(why, why_size, "the receipt of node '%s' cannot be read (%s)", node->id,
                         batch_receipt_strerror(r));
                return 1;
        }
        r = head_cache_verify(heads, node->receipt_verifier, br->head, br->head_len, &h);
        if (r < 0)
                return r;
        if (r > 0) {
                snprintf(why, why_size, "the receipt does not verify with node '%s''s key (%s)", node->id,
                         batch_receipt_strerror(r));
                return 1;
        }
        if (!node_has_origin(node, h.origin)) {
                snprintf(why, why_size, "the receipt of node '%s' is under a tree head of another log ('%.100s')",
                         node->id, h.origin);
                return 1;
        }
        r = batch_receipt_verify_entry(br, &h, ret_entry);
        if (r <= 0)
                return r;
        snprintf(why, why_size, "the receipt of node '%s' does not prove its entry (%s)", node->id,
                 batch_receipt_strerror(r));
        return 1;
}

/* A receipt of the one-JWS form: its claims. */
static int receipt_open_jws(const RegistryNode *node, const char *receipt, json_t **ret_claims, char *why,
                            size_t why_size)
{
        _cleanup_(json_decrefp) json_t *header = NULL, *claims = NULL;
        int r;

        r = jws_verify_compact_once(node->receipt_verifier, receipt, strlen(receipt), &header, &claims);
        if (r == -ENOMEM)
                return r;
        if (r != 0 || !streq(member(header, "typ"), RECEIPT_TYP)) {
                snprintf(why, why_size, "the receipt does not verify with node '%s''s key (%s)", node->id,
                         r > 0 ? jws_strerror(r) : "not a receipt");
                return 1;
        }
        *ret_claims = TAKE_PTR(claims);
        return 0;
}

int forward_receipt_check(const RegistryNode *node, const char *receipt, const ReceiptExpect *e, HeadCache *heads,
                          uint64_t *ret_seq, char *why, size_t why_size)
{
        _cleanup_(json_decrefp) json_t *claims = NULL; /* the receipt's claims, or its log entry */
        int r;

        if (!receipt) {
                snprintf(why, why_size, "node '%s' answered without a receipt", node->id);
                return 1;
        }
        r = batch_receipt_is(receipt, strlen(receipt))
                    ? receipt_open_batch(node, receipt, heads, &claims, why, why_size)
                    : receipt_open_jws(node, receipt, &claims, why, why_size);
        if (r != 0)
                return r;
        if (!receipt_names(claims, e)) {
                snprintf(why, why_size,
                         "the receipt of node '%s' is for another exchange (X-Road-Id, client, service, request or "
                         "response differ)",
                         node->id);
                return 1;
        }
        *ret_seq = (uint64_t)json_integer_value(json_object_get(claims, "seq"));
        return 0;
}

int node_call_sign(const Signer *s, const NodeCallClaims *c, char **ret)
{
        json_t *o;

        if (!s || !c->node || !c->to || !c->kind || !c->client || !c->method || !c->target || !c->body_hash)
                return -EINVAL;
        o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "v", 1, "node", c->node, "to", c->to, "kind", c->kind,
                      "client", c->client, "method", c->method, "target", c->target, "body_hash", c->body_hash, "iat",
                      (json_int_t)(c->time_usec / 1000000ULL));
        return sign_claims(s, NODE_CALL_TYP, o, ret);
}

/* The node-call envelope's members against the call that carried it. Return: 0, or 1 with *p. */
static int check_call_claims(const Registry *reg, const RegistryNode *from, const json_t *c,
                             const NodeCallClaims *expect, uint64_t now_usec, const RegistrySubsystem **ret_client,
                             Problem *p)
{
        const RegistrySubsystem *client;

        if (!streq(member(c, "kind"), strempty(expect->kind)) ||
            !streq(member(c, "method"), strempty(expect->method)) ||
            !streq(member(c, "target"), strempty(expect->target)) ||
            !streq(member(c, "body_hash"), strempty(expect->body_hash)))
                return refuse(p, "the call of node '%s' does not match the request (kind, method, path or body)",
                              from->id);
        client = registry_subsystem_lookup(reg, member(c, "client"));
        if (!client || registry_node_hosting(reg, client->id) != from)
                return refuse(p, "node '%s' calls for '%.255s', which it does not host", from->id, member(c, "client"));
        if (!(client->roles & REGISTRY_ROLE_CONSENT_AUTHORITY))
                return refuse(p, "node '%s' calls for '%.255s', which is not a consent authority", from->id,
                              client->id);
        if (envelope_fresh(&NODE_CALL, from, c, now_usec, p))
                return 1;
        *ret_client = client;
        return 0;
}

int node_call_check(const Registry *reg, const char *self_kid, const uint8_t *peer_fp, const char *jws,
                    const NodeCallClaims *expect, uint64_t now_usec, const RegistrySubsystem **ret_client,
                    const RegistryNode **ret_node, Problem *p)
{
        _cleanup_(json_decrefp) json_t *claims = NULL;
        const RegistryNode *from = NULL;
        int r;

        r = envelope_open(reg, self_kid, peer_fp, jws, &NODE_CALL, &from, &claims, p);
        if (r == 0)
                r = check_call_claims(reg, from, claims, expect, now_usec, ret_client, p);
        if (r == 0)
                *ret_node = from;
        return r;
}
