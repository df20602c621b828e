/* adapter-curl.h: the libcurl handle an adapter keeps to call its backend (REST and SOAP forwarders)
 *
 * An AdapterCurl is embedded in a forwarder (rest/rest-forward.c,
 * soap/soap-forward.c): one curl easy handle, whose live connections are
 * kept and reused between requests, and the buffer the answer is received
 * into, never larger than `max_response`. It is used by one thread at a
 * time (one per adapter worker).
 *
 * A call goes: adapter_curl_prepare() (reset, then the options every backend
 * call shares), the forwarder's own options (method, body, ...),
 * adapter_curl_perform() (transfer outcome mapped to the bus's error
 * answers), then the status from CURLINFO_RESPONSE_CODE and the body in
 * buf/len.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "runtime/adapter.h"
#include "util/macro.h"

#define ADAPTER_CURL_MAX_URL 8192
#define ADAPTER_CURL_MAX_HEAD (32 * 1024) /* bytes of a backend's response header fields */

typedef struct AdapterCurlOptions {
        uint64_t timeout_ms;              /* cap per request; a smaller request timeout_ms applies */
        size_t max_response;              /* bytes of response body */
        const char *ca_file;              /* NULL: the system's CAs (for https backends) */
        const char *cert_file, *key_file; /* NULL, or a client certificate for mTLS backends */
} AdapterCurlOptions;

typedef struct AdapterCurl {
        CURL *curl;
        AdapterCurlOptions o;                 /* the strings point to the copies below */
        char *ca_file, *cert_file, *key_file; /* owned */
        /* the response body being received (owned; see adapter_curl_take_body()) */
        char *buf;
        size_t len, cap;
        bool too_large;
        /* the response's header fields as received ("Name: value\r\n" lines of the final response) */
        char *head;
        size_t head_len;
        bool head_too_large;
        char error[CURL_ERROR_SIZE]; /* curl's words for the last failure */
} AdapterCurl;

/*
 * adapter_curl_new(): a heap AdapterCurl with a new easy handle and copies
 * of the strings of `o`; refuses a zero timeout, a max_response of 0 or over
 * ADAPTER_MAX_BODY_LIMIT, and a cert_file without key_file (or the reverse).
 * The caller frees it. Return: 0, -EINVAL, -ENOMEM.
 */
int adapter_curl_new(AdapterCurl **ret, const AdapterCurlOptions *o);
/* adapter_curl_free(): free `h` and what it holds (NULL is fine). Return: NULL. */
AdapterCurl *adapter_curl_free(AdapterCurl *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(AdapterCurl *, adapter_curl_free);

/* adapter_curl_url_valid(): an absolute http:// or https:// URL with a host and without a fragment. */
bool adapter_curl_url_valid(const char *url);

/*
 * adapter_curl_prepare(): reset the handle (live connections stay) and the
 * receive buffer, then set what every backend call shares: `url` (borrowed
 * until the transfer), http and https only, no redirects, no signals, the
 * timeout (the smaller of the options' and `request_timeout_ms` when that is
 * not 0) for the transfer and the connect, TCP keep-alive, `headers`
 * (borrowed; NULL for none), the size-limited receiver, and the CA file and
 * client certificate of the options.
 */
void adapter_curl_prepare(AdapterCurl *h, const char *url, struct curl_slist *headers, uint64_t request_timeout_ms);

/*
 * adapter_curl_perform(): run the transfer, log a failure (the backend's
 * scheme, host and port, never its path or query; the cause, curl's error
 * text and the HTTP status; an answer with a status of 5xx, 1xx or 3xx
 * counts as a failure), and map transfer failures onto the bus's answers in `resp`
 * (adapter_response_error()):
 *   timeout                      504 provider_timeout
 *   connect/resolve/TLS fails    503 provider_unavailable
 *   body over max_response       502 response_invalid
 *   other transfer failures      502 provider_error
 * Return: 0 when the transfer completed (resp untouched; the body is in
 * buf/len), 1 when `resp` is the error answer, or -ENOMEM.
 */
int adapter_curl_perform(AdapterCurl *h, AdapterResponse *resp);

/*
 * adapter_curl_take_headers(): the final response's header fields into
 * `resp` (adapter_response_add_header()), in order, but those the bus
 * carries otherwise or that describe this hop (Content-Type,
 * Content-Length, Transfer-Encoding, Connection, Keep-Alive); lines that
 * are folded or not "name: value" are dropped. Return: 0, -E2BIG (over
 * ADAPTER_CURL_MAX_HEAD or PROTO_MAX_HEADERS fields), -ENOMEM.
 */
int adapter_curl_take_headers(AdapterCurl *h, AdapterResponse *resp);

/*
 * adapter_curl_take_body(): hand the received body over to the caller
 * (malloc'd, not NUL-terminated; NULL when empty); the next transfer starts
 * a new buffer.
 */
void adapter_curl_take_body(AdapterCurl *h, uint8_t **ret_body, size_t *ret_size);

static inline void curl_slist_free_allp(struct curl_slist **l)
{
        if (*l)
                curl_slist_free_all(*l);
}
