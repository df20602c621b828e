/* receipt.h: the X-Bus-Receipt, a compact JWS over what was asked and answered */
#pragma once

#include <stdint.h>

#include "crypto/signer.h"

typedef struct Receipt {
        uint64_t seq;     /* log sequence number of the exchange's entry */
        const char *time; /* RFC 3339 UTC time of the entry, e.g. "2026-11-22T08:01:02.123456Z" */
        const char *xroad_id;
        const char *client;             /* subsystem id */
        const char *service;            /* service id */
        const char *request_hash;       /* hex SHA-256 of the request body */
        const char *response_hash;      /* hex SHA-256 of the delivered response body */
        const char *subject;            /* pseudonym, or NULL */
        const char *purpose;            /* or NULL */
        const char *basis;              /* "statute" / "consent", or NULL */
        const char *xroad_request_hash; /* X-Road-Request-Hash (base64), or NULL */
        const char *request_id;         /* X-Road-Request-Id, or NULL */
} Receipt;

/*
 * receipt_sign(): JWS (typ "xbus-receipt+jws") over the JSON payload
 * {"seq","time","xroad_id","client","service","request_hash",
 *  "response_hash","subject","purpose","basis","xroad_request_hash",
 *  "request_id"} (absent fields omitted).
 * The payload is compact JSON (no white space) with the keys in that order.
 * time, xroad_id, client, service and the two hashes are required; only
 * subject, purpose, basis, xroad_request_hash and request_id may be NULL. Strings are valid UTF-8 of at most
 * 1 KiB each; seq is at most INT64_MAX.
 * Return: 0 with *ret (malloc'd), -EINVAL (a field missing or invalid),
 * -ENOMEM, -EIO.
 */
int receipt_sign(const Signer *s, const Receipt *r, char **ret);

/*
 * receipt_payload(): the JSON payload receipt_sign() signs, for callers and
 * tests that check a receipt's content. Return: as receipt_sign().
 */
int receipt_payload(const Receipt *r, char **ret);
