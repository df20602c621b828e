/* cli-consent.h: `xbus consent grant|revoke|show|list` and `xbus subject accesses`, over the consent API
 *
 * The operator acts as a consent authority: requests go to the node's
 * /consent/ API (docs/consent.md) with mutual TLS, using the authority's demo
 * client certificate STATE/pki/clients/<id>.crt/.key (by default the
 * national portal, VN/GOV/VPCP/national-portal) and trusting STATE/pki/ca.crt.
 * What the node answers is printed sanitised (cli-table.h).
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define CLI_CONSENT_DEFAULT_AUTHORITY "VN/GOV/VPCP/national-portal"
#define CLI_CONSENT_MAX_SCOPE 64

/* Positive: the node answered, but with a refusal (printed). */
enum { CLI_CONSENT_E_REFUSED = 1 };

typedef struct CliConsentTarget {
        const char *state_dir; /* holds pki/ */
        const char *base_url;  /* "https://127.0.0.1:8443" */
        const char *authority; /* NULL: CLI_CONSENT_DEFAULT_AUTHORITY */
} CliConsentTarget;

typedef struct CliConsentGrant {
        const char *subject;
        const char *grantee;
        const char *services[CLI_CONSENT_MAX_SCOPE];
        size_t n_services;
        const char *categories[CLI_CONSENT_MAX_SCOPE];
        size_t n_categories;
        const char *purpose;
        const char *valid_from; /* RFC 3339, or NULL (now) */
        const char *expires;    /* RFC 3339, or a duration from now: "30d", "12h", "90m", "45s" */
        uint64_t max_uses;      /* 0: unlimited */
} CliConsentGrant;

/*
 * cli_consent_expiry(): `text` as an RFC 3339 time, or a duration from
 * `now_usec` (a number and one of s, m, h, d; at most ten years), into out
 * (RFC 3339). Return: 0 or -EINVAL.
 */
int cli_consent_expiry(const char *text, uint64_t now_usec, char out[32]);

/*
 * cli_consent_call(): one API request (`body` JSON text or NULL). On an
 * answer of status `expect` with a JSON object, 0 with *ret_json (caller
 * json_decref()s); any other answer is printed to `out` as a refusal (its
 * problem type and detail). Otherwise *ret_error (malloc'd) says why.
 * Return: 0, CLI_CONSENT_E_REFUSED, -EINVAL, -ENOENT (certificate files
 * missing), -ENOMEM, or a CLI_HTTP_E_* code.
 */
int cli_consent_call(const CliConsentTarget *t, const char *method, const char *path, const char *body, long expect,
                     FILE *out, json_t **ret_json, char **ret_error);

/*
 * The commands. Each prints the result to `out` (a refusal as its problem
 * type and detail). cli_consent_grant() returns the new id into ret_id
 * (malloc'd) when given.
 * Return: 0, CLI_CONSENT_E_REFUSED, or as cli_consent_call().
 */
int cli_consent_grant(const CliConsentTarget *t, const CliConsentGrant *g, FILE *out, char **ret_id, char **ret_error);
int cli_consent_revoke(const CliConsentTarget *t, const char *id, FILE *out, char **ret_error);
int cli_consent_show(const CliConsentTarget *t, const char *id, FILE *out, char **ret_error);
int cli_consent_list(const CliConsentTarget *t, const char *subject, FILE *out, char **ret_error);
/* cli_subject_accesses(): one page (limit 1..500, cursor UINT64_MAX: newest); *ret_json (if given) keeps the answer. */
int cli_subject_accesses(const CliConsentTarget *t, const char *subject, unsigned limit, uint64_t cursor, FILE *out,
                         json_t **ret_json, char **ret_error);
