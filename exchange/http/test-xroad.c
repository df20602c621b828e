/* test-xroad.c: the X-Road wire rules against the specification: request hash vectors, Accept, deny-lists, ids */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/xroad.h"
#include "util/macro.h"

/*
 * The request hash vectors V1-V3 of the issue 11 digest (/work/notes/xroad-requirements.md §G),
 * derived there from PR-REST 1.0.4 §4.3 and X-Road's RestRequest serialisation and checked with
 * openssl; each lists the request as received, the node's request id and (V2) the X-Road-Id it
 * generated.
 */
static void test_hash_vectors(void)
{
        static const XroadHeader v1h[] = {
                { "Host", "bus.example.org" },
                { "User-Agent", "curl/8.5.0" },
                { "Accept", "application/json" },
                { "X-Road-Client", "EE/GOV/70000002/portal" },
                { "X-Road-Id", "4894e35d-bf0f-44a6-867a-8e51f1daa7e0" },
                { "X-Road-UserId", "EE38001010000" },
        };
        static const XroadHeader v2h[] = {
                { "Host", "bus.example.org" },
                { "Content-Type", "application/json" },
                { "Content-Length", "12" },
                { "Accept", "application/json" },
                { "X-Road-Client", "EE/GOV/70000002/portal" },
        };
        static const XroadHeader v3h[] = {
                { "X-Road-Client", "EE/GOV/70000002/sub%2Fsystem" },
                { "X-Road-Id", "q-3" },
        };
        const XroadHashInput v1 = {
                .method = "GET",
                .target = "/r1/EE/GOV/70000001/registry/citizen/v1/persons/38001010000?lang=et",
                .headers = v1h,
                .n_headers = ELEMENTSOF(v1h),
                .request_id = "f92591a3-6bf0-49b1-987b-0dd78c034cc3",
        };
        const XroadHashInput v2 = {
                .method = "POST",
                .target = "/r1/EE/GOV/70000001/registry/echo/v1/items",
                .headers = v2h,
                .n_headers = ELEMENTSOF(v2h),
                .request_id = "0b5c7ad4-2f6e-4c43-9a3e-5d1f3b2a9c10",
                .generated_id = "EE-1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                .body = "{\"value\":42}",
                .body_size = 12,
        };
        const XroadHashInput v3 = {
                .method = "GET",
                .target = "/r1/EE/GOV/70000001/registry/citizen/v1/name/J%C3%BCri%20Tamm",
                .headers = v3h,
                .n_headers = ELEMENTSOF(v3h),
                .request_id = "11111111-2222-3333-4444-555555555555",
        };
        char out[XROAD_HASH_LEN + 1], *h = NULL;

        assert(xroad_request_hash(&v1, out, &h) == 0);
        assert(streq(out, "svaIWYaTNPDKjUkBcZBn/5Xkz3B5+Sp035b1KETBDyDYQOuFLhNyDau7Y/x4hCE8MFGE+H5RVt6dNW3b01qs0w=="));
        assert(strlen(h) == 270 && strncmp(h, "GET\r\n/r1/EE/GOV/", 16) == 0 && !strstr(h, "Host") &&
               !strstr(h, "User-Agent"));
        free(h);
        assert(xroad_request_hash(&v2, out, NULL) == 0);
        assert(streq(out, "VMnHqxt0yFJKF+C19D6zMP07/GgQLeSJcKNyHoFJNAr1+VuCctQWYj65d5PiuABeqqCjIon0xm4iNEoNiiCXDw=="));
        assert(xroad_request_hash(&v3, out, NULL) == 0);
        assert(streq(out, "GEawWu4TrNJeKsNAvwsfiJVLFBlrjp2i5uDID7JDWoDRtvwvsykyPPhSAplsqBanYxCxFuxzj3dPM5iYC46IHg=="));

        /* a client's request id and hash are not hashed; an empty body counts as none; values are trimmed */
        {
                static const XroadHeader extra[] = {
                        { "X-Road-Client", "EE/GOV/70000002/sub%2Fsystem" },
                        { "X-Road-Request-Id", "foo" },
                        { "X-Road-Id", "  q-3\t" },
                        { "x-road-request-hash", "bar" },
                        { "Connection", "keep-alive" },
                };
                XroadHashInput v = v3;
                v.headers = extra;
                v.n_headers = ELEMENTSOF(extra);
                v.body = "";
                assert(xroad_request_hash(&v, out, NULL) == 0);
                assert(streq(out,
                             "GEawWu4TrNJeKsNAvwsfiJVLFBlrjp2i5uDID7JDWoDRtvwvsykyPPhSAplsqBanYxCxFuxzj3dPM5iYC46IHg=="));
        }
}

static XroadErrorFormat accept1(const char *value, char *media)
{
        const char *v[] = { value };

        media[0] = 0;
        return xroad_error_format(v, 1, media);
}

/* PR-REST 1.0.4 §4.6 and X-Road's RestProxyTest.shouldRespectAcceptHeaderInErrorResponse, plus the xbus extension. */
static void test_accept(void)
{
        char media[XROAD_ERROR_MEDIA_MAX + 1];

        assert(xroad_error_format(NULL, 0, media) == XROAD_ERRORS_JSON);
        assert(accept1(NULL, media) == XROAD_ERRORS_JSON);
        assert(accept1("*/*", media) == XROAD_ERRORS_JSON);
        assert(accept1("foobarbaz", media) == XROAD_ERRORS_JSON);
        assert(accept1("text/xml-patch+xml", media) == XROAD_ERRORS_JSON);
        assert(accept1("application/json, application/xml", media) == XROAD_ERRORS_XML &&
               streq(media, "application/xml"));
        assert(accept1("application/xml; q=0.2", media) == XROAD_ERRORS_XML && streq(media, "application/xml"));
        assert(accept1("text/xml, application/xml, application/json", media) == XROAD_ERRORS_XML &&
               streq(media, "text/xml"));
        assert(accept1("text/*", media) == XROAD_ERRORS_XML && streq(media, "text/xml"));
        assert(accept1("application/json;q=1, TEXT/XML;q=0.1", media) == XROAD_ERRORS_XML && streq(media, "text/xml"));
        /* problem+json is looked for first, anywhere */
        assert(accept1("application/problem+json", media) == XROAD_ERRORS_PROBLEM);
        assert(accept1("application/xml, application/problem+json;q=0.1", media) == XROAD_ERRORS_PROBLEM);
        {
                const char *two[] = { "application/json", " application/xml " };
                assert(xroad_error_format(two, 2, media) == XROAD_ERRORS_XML && streq(media, "application/xml"));
        }
}

/* PR-REST 1.0.4 §4.3 (filtered headers) and the contract's deny-lists. */
static void test_headers(void)
{
        static const char *const filtered[] = { "Connection",
                                                "keep-alive",
                                                "Proxy-Authenticate",
                                                "Proxy-Authorization",
                                                "TE",
                                                "trailer",
                                                "Transfer-Encoding",
                                                "Upgrade",
                                                "host",
                                                "User-Agent",
                                                "Server",
                                                "Content-Length",
                                                "Expect" };
        static const char *const passed[] = { "Accept",        "Authorization", "Cookie",
                                              "Cache-Control", "If-None-Match", "X-Custom",
                                              "X-Road-UserId", "X-Road-Id",     "Content-Type" };

        for (size_t i = 0; i < ELEMENTSOF(filtered); i++)
                assert(xroad_header_filtered(filtered[i]) && !xroad_header_to_provider(filtered[i]) &&
                       !xroad_header_to_client(filtered[i]));
        for (size_t i = 0; i < ELEMENTSOF(passed); i++)
                assert(!xroad_header_filtered(passed[i]) && xroad_header_to_provider(passed[i]));
        assert(!xroad_header_to_provider("X-Road-Request-Id") && !xroad_header_to_provider("x-road-request-hash"));
        assert(!xroad_header_to_provider("X-Road-Client") && !xroad_header_to_provider("X-GovStack-Client"));
        assert(!xroad_header_to_provider("X-Bus-Subject") && !xroad_header_to_provider("x-bus-purpose") &&
               !xroad_header_to_provider("X-Bus-Consent"));
        assert(xroad_header_to_client("Cache-Control") && xroad_header_to_client("ETag") &&
               xroad_header_to_client("Set-Cookie") && xroad_header_to_client("Date") &&
               xroad_header_to_client("Location"));
        assert(!xroad_header_to_client("Content-Type") && !xroad_header_to_client("X-Road-Request-Hash") &&
               !xroad_header_to_client("x-road-client") && !xroad_header_to_client("X-Bus-Receipt"));
}

static void test_ids(void)
{
        char out[XROAD_ID_MAX + 1];

        /* X-Road-Client: 3 or 4 parts, each decoded on its own (PR-REST 1.0.4 §4.2, §4.3) */
        assert(xroad_id_decode("EE/GOV/70000002/portal", 3, 4, out, sizeof(out)) == 4 &&
               streq(out, "EE/GOV/70000002/portal"));
        assert(xroad_id_decode("EE/GOV/7000000%32/%70ortal", 3, 4, out, sizeof(out)) == 4 &&
               streq(out, "EE/GOV/70000002/portal"));
        assert(xroad_id_decode("EE/GOV/70000002", 3, 4, out, sizeof(out)) == 3);
        assert(xroad_id_decode("EE/GOV/70000002/sub%2Fsystem", 3, 4, out, sizeof(out)) == 4 &&
               streq(out, "EE/GOV/70000002/sub%2Fsystem"));
        assert(xroad_id_decode("EE/GOV", 3, 4, out, sizeof(out)) < 0);
        assert(xroad_id_decode("EE/GOV/70000002/portal/x", 3, 4, out, sizeof(out)) < 0);
        assert(xroad_id_decode("EE/GOV/70000002/port%2", 3, 4, out, sizeof(out)) < 0);
        assert(xroad_id_decode("EE//70000002/portal", 3, 4, out, sizeof(out)) < 0);
        assert(xroad_id_decode("EE/GOV/70000002/po%0Art", 3, 4, out, sizeof(out)) < 0);
        assert(xroad_id_decode("EE/GOV/70000002/portal/", 3, 4, out, sizeof(out)) < 0);

        /* X-Road-Represented-Party: [class/]code (PR-THIRDPARTY 1.1 §2.2) */
        assert(xroad_represented_party_valid("COM/12345") && xroad_represented_party_valid("12345") &&
               xroad_represented_party_valid("COM/1234%2F5"));
        assert(!xroad_represented_party_valid("EE/COM/12345") && !xroad_represented_party_valid("") &&
               !xroad_represented_party_valid("COM/") && !xroad_represented_party_valid("/12345") &&
               !xroad_represented_party_valid("COM/12%3"));

        /* written back part by part (PR-REST 1.0.4 §4.3; X-Road's RestResponse.encodeXRoadId) */
        assert(xroad_id_encode("EE/GOV/70000002/portal", out, sizeof(out)) == 0 &&
               streq(out, "EE/GOV/70000002/portal"));
        assert(xroad_id_encode("EE/GOV/7 0/\xc3\xb6\xc3\xa4:@", out, sizeof(out)) == 0 &&
               streq(out, "EE/GOV/7%200/%C3%B6%C3%A4:@"));
        assert(xroad_id_encode("EE/GOV/x y", out, 10) == -E2BIG);
}

int main(void)
{
        test_hash_vectors();
        test_accept();
        test_headers();
        test_ids();
        printf("xroad: ok\n");
        return 0;
}
