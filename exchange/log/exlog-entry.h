/* exlog-entry.h: the fields of one exchange log entry, and their rendering
 *
 * The fields are always present, in this order, null when they do not apply
 * (docs/ARCHITECTURE.md, "The exchange log entry"). The worker renders the
 * entry; the log writer renders it again only for the refusal variant, when
 * the consent an exchange relies on turns out used up (or revoked) at commit.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "policy/problem.h"

typedef struct ExlogEntry {
        const char *xroad_id;
        const char *client;  /* NULL: no identified client */
        const char *service; /* as requested, even when unknown */
        const char *method;
        const char *path;
        const char *user_id;
        const char *issue;
        const char *subject; /* pseudonym (hex), never the personal id */
        const char *purpose;
        const char *basis;
        const char *right;
        const char *legal_reference;
        const char *consent; /* the consent's id, "(artefact)", never an artefact's text */
        bool allow;
        int status;
        ProblemType error; /* PROBLEM_NONE: null */
        const char *request_hash;
        uint64_t request_size;
        const char *response_hash;
        uint64_t response_size;
        uint64_t duration_us;
        const char *query_hash;         /* hex SHA-256 of the raw query string, NULL when none */
        const char *revealed_subject;   /* pseudonym of a person the answer names (response-subject) */
        const char *xroad_request_hash; /* X-Road-Request-Hash (base64 SHA-512 over what the client sent) */
        const char *request_id;         /* X-Road-Request-Id, the node's id of the request */
        const char *represented_party;  /* X-Road-Represented-Party as sent */
        bool purpose_default;           /* `purpose` is the right's default: the request named none */
        const char *error_id;           /* a refusal's id, the X-Road error body's "detail" */
        /* federation (issue 13), written only when set: the other node of a node-to-node exchange,
         * "provider" (this node forwarded it there; peer_seq: that node's entry) or "client" (it
         * forwarded it here) */
        const char *peer_node;
        const char *peer_role;
        bool has_peer_seq;
        uint64_t peer_seq;
        /* the client node of a forwarded exchange logs the request before it forwards it: that entry has
         * stage "request" (no answer yet: status 0); the answer's entry names it (request_seq). Written only
         * with peer_node. */
        const char *stage;
        bool has_request_seq;
        uint64_t request_seq;
        /* > 0: the consent was refused at commit with this reason (consent.h CONSENT_E_*): the
         * entry records a refusal (deny, 403, consent_invalid, the reason, no response) */
        int consent_refusal;
} ExlogEntry;

/*
 * exlog_entry_write(): the entry's "{...}" fields (the writer adds v, seq and
 * time) into `buf` of `size` bytes, NUL-terminated; *ret_len is the entry's
 * length either way (without the NUL). Nothing is allocated.
 * Return: 0, or -ENOBUFS when the entry needs more than size - 1 bytes (`buf`
 * then holds an empty string, never a part of the entry).
 */
int exlog_entry_write(const ExlogEntry *e, char *buf, size_t size, size_t *ret_len);

/* exlog_entry_render(): the same as a malloc'd string: the whole entry, or NULL (out of memory). */
char *exlog_entry_render(const ExlogEntry *e);
