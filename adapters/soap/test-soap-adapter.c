/* test-soap-adapter.c: the soap adapter against an in-process SOAP backend (the real sample renderings, faults, failures) */
#include <arpa/inet.h>
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "sample/dataset.h"
#include "sample/sample-soap.h"
#include "soap/soap-forward.h"
#include "soap/soap.h"
#include "tests/support/test-util.h"

typedef struct Backend {
        struct event_base *base;
        struct evhttp *http;
        pthread_t thread;
        int port;
        DatasetReader *reader;
        char soap_action[64];
        char *last; /* the last request's body */
} Backend;

static void send_text(struct evhttp_request *req, int code, const char *body, size_t size)
{
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", SOAP_CONTENT_TYPE);
        evbuffer_add(evhttp_request_get_output_buffer(req), body, size);
        evhttp_send_reply(req, code, code == 200 ? "OK" : "Status", NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
        Backend *b = arg;
        const char *uri = evhttp_request_get_uri(req);
        const char *action = evhttp_find_header(evhttp_request_get_input_headers(req), "SOAPAction");

        snprintf(b->soap_action, sizeof(b->soap_action), "%s", action ? action : "(none)");
        free(b->last);
        b->last = strndup((const char *)evbuffer_pullup(evhttp_request_get_input_buffer(req), -1),
                          evbuffer_get_length(evhttp_request_get_input_buffer(req)));
        if (streq(uri, "/sample")) {
                struct evbuffer *in = evhttp_request_get_input_buffer(req);
                size_t n = evbuffer_get_length(in), size;
                char *out = NULL;
                int status;
                assert(sample_soap_answer(b->reader, (const char *)evbuffer_pullup(in, -1), n, &out, &size, &status) ==
                       0);
                send_text(req, status, out, size);
                free(out);
        } else if (streq(uri, "/fault-server")) {
                static const char f[] = "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body>"
                                        "<e:Fault><faultcode>e:Server</faultcode><faultstring>ORA-00942 at db.c:42"
                                        "</faultstring></e:Fault></e:Body></e:Envelope>";
                send_text(req, 500, f, strlen(f));
        } else if (streq(uri, "/garbage")) {
                static const char e[] = "Traceback: secret internals";
                send_text(req, 500, e, strlen(e));
        } else if (streq(uri, "/doctype")) {
                static const char e[] = "<!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                                        "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body>"
                                        "<p>&x;</p></e:Body></e:Envelope>";
                send_text(req, 200, e, strlen(e));
        } else if (streq(uri, "/not-envelope")) {
                send_text(req, 200, "<x/>", 4);
        } else if (streq(uri, "/slow")) {
                usleep(800 * 1000);
                send_text(req, 200, "<x/>", 4);
        } else if (streq(uri, "/big")) {
                size_t n = 100 * 1024;
                char *big = malloc(n);
                memset(big, 'x', n);
                send_text(req, 200, big, n);
                free(big);
        } else
                send_text(req, 404, "", 0);
}

static void *backend_thread(void *p)
{
        test_thread_block_sigpipe();
        event_base_dispatch(((Backend *)p)->base);
        return NULL;
}

static int closed_port(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0), port;

        assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        assert(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
        port = ntohs(sa.sin_port);
        close(fd);
        return port;
}

static AdapterRequest request(const char *service, const char *subject, const char *payload)
{
        return (AdapterRequest){ .service = service,
                                 .method = "GET",
                                 .path = "/",
                                 .query = "",
                                 .client = "VN/GOV/BYT/health-services",
                                 .subject = subject,
                                 .purpose = "health-insurance-enrolment",
                                 .user_id = "VN-officer-17",
                                 .issue = "",
                                 .xroad_id = "x-1",
                                 .content_type = SOAP_CONTENT_TYPE,
                                 .represented_party = "",
                                 .timeout_ms = 5000,
                                 .body = (const uint8_t *)payload,
                                 .body_size = payload ? strlen(payload) : 0 };
}

static void forward(AdapterCurl *f, int port, const char *path, const AdapterRequest *req, AdapterResponse *resp,
                    int status, const char *error)
{
        char url[128];

        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        *resp = (AdapterResponse){ .content_type = "application/json" };
        assert(soap_forward(f, url, req, resp) == 0);
        if (resp->status != status ||
            (error ? !resp->error || !streq(problem_name(resp->error), error) : resp->error != PROBLEM_NONE))
                fprintf(stderr, "%s: status %d error %s detail %s\n", path, resp->status,
                        resp->error ? problem_name(resp->error) : "", resp->detail);
        assert(resp->status == status);
        assert(error ? resp->error && streq(problem_name(resp->error), error) : !resp->error);
        /* the backend's answer goes to the node as it is (the node reads it); the adapter's own words never
         * quote it */
        assert(error || streq(resp->content_type, SOAP_CONTENT_TYPE));
        assert(!strstr(resp->detail, "ORA-") && !strstr(resp->detail, "root:") && !strstr(resp->detail, "secret"));
}

/* Whether the backend's answer in `resp` holds `text`. */
static bool holds(const AdapterResponse *resp, const char *text)
{
        return resp->body && memmem(resp->body, resp->body_size, text, strlen(text));
}

int main(void)
{
        char dir[] = "/tmp/xbus-test-soap-adapter-XXXXXX";
        static const char citizen[] = "<p:citizen xmlns:p=\"" SAMPLE_SOAP_NS_CITIZEN "\"/>";
        static const char tax[] = "<t:tax-status xmlns:t=\"" SAMPLE_SOAP_NS_TAX_STATUS "\"/>";
        Dataset *d = NULL;
        Backend b = {};
        AdapterCurl *f = NULL;
        AdapterRequest req;
        AdapterResponse resp;
        struct evhttp_bound_socket *s;
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);

        assert(soap_global_init() == 0);
        assert(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
        evthread_use_pthreads();
        assert(mkdtemp(dir));
        assert(dataset_generate(dir, 20, 7) == 0);
        assert(dataset_open(&d, dir) == 0);
        assert(dataset_reader_new(d, &b.reader) == 0);
        b.base = event_base_new();
        b.http = evhttp_new(b.base);
        evhttp_set_gencb(b.http, on_request, &b);
        s = evhttp_bind_socket_with_handle(b.http, "127.0.0.1", 0);
        assert(s && getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sa, &sl) == 0);
        b.port = ntohs(sa.sin_port);
        assert(pthread_create(&b.thread, NULL, backend_thread, &b) == 0);

        assert(adapter_curl_new(&f, &(AdapterCurlOptions){ .timeout_ms = 0, .max_response = 1 }) == -EINVAL);
        assert(adapter_curl_new(&f, &(AdapterCurlOptions){ .timeout_ms = 500, .max_response = 64 * 1024 }) == 0);
        assert(adapter_curl_url_valid("http://127.0.0.1:1/soap") && !adapter_curl_url_valid("file:///etc/passwd") &&
               !adapter_curl_url_valid("http://x/#f") && !adapter_curl_url_valid(""));

        /* the real sample renderings through the adapter: the backend's envelope comes back as it is */
        req = request("VN/GOV/BCA/population/citizen", "001090000001", citizen);
        forward(f, b.port, "/sample", &req, &resp, 200, NULL);
        assert(holds(&resp, "Nguyễn Văn An") && holds(&resp, "Envelope") && holds(&resp, "<pop:citizenResponse"));
        assert(streq(b.soap_action, "\"\""));
        assert(strstr(b.last, "<xroad:userId>VN-officer-17</xroad:userId>") && !strstr(b.last, "representedParty"));
        free(resp.body);
        req = request("VN/GOV/BTC/tax/tax-status", "001090000001", tax);
        forward(f, b.port, "/sample", &req, &resp, 200, NULL);
        assert(holds(&resp, "<tax:tax_code>001090000001</tax:tax_code>"));
        free(resp.body);
        /* the client's SOAPAction and represented party reach the backend */
        req = request("VN/GOV/BCA/population/citizen", "001090000001", citizen);
        req.soap_action = "\"urn:x\"";
        req.represented_party = "COM/12345";
        forward(f, b.port, "/sample", &req, &resp, 200, NULL);
        assert(streq(b.soap_action, "\"urn:x\""));
        assert(strstr(b.last, "<repr:partyClass>COM</repr:partyClass><repr:partyCode>12345</repr:partyCode>"));
        free(resp.body);
        /* the backend's own Faults, with its status: the node relays them */
        req = request("VN/GOV/BCA/population/citizen", "999999999999", citizen);
        forward(f, b.port, "/sample", &req, &resp, 500, NULL);
        assert(holds(&resp, "<faultcode>Client.not_found</faultcode>"));
        free(resp.body);
        req = request("VN/GOV/BCA/population/citizen", NULL, citizen);
        forward(f, b.port, "/sample", &req, &resp, 500, NULL);
        assert(holds(&resp, "<faultcode>Client.bad_request</faultcode>"));
        free(resp.body);
        req = request("VN/GOV/BCA/population/citizen", "001090000001", citizen);
        forward(f, b.port, "/fault-server", &req, &resp, 500, NULL);
        free(resp.body);

        /* answers the node will refuse still pass (the node's hardened parser reads them) */
        forward(f, b.port, "/garbage", &req, &resp, 500, NULL);
        free(resp.body);
        forward(f, b.port, "/doctype", &req, &resp, 200, NULL);
        free(resp.body);
        forward(f, b.port, "/not-envelope", &req, &resp, 200, NULL);
        free(resp.body);
        forward(f, b.port, "/nothing", &req, &resp, 404, NULL);
        free(resp.body);
        /* failures of the transfer */
        forward(f, b.port, "/slow", &req, &resp, 504, "provider_timeout");
        free(resp.body);
        forward(f, b.port, "/big", &req, &resp, 502, "response_invalid");
        free(resp.body);
        forward(f, closed_port(), "/sample", &req, &resp, 503, "provider_unavailable");
        free(resp.body);

        /* requests that cannot be carried */
        req = request("VN/GOV/BCA/population/citizen", "001090000001", NULL);
        forward(f, b.port, "/sample", &req, &resp, 400, "bad_request");
        free(resp.body);
        req = request("VN/GOV/BCA/population/citizen", "001090000001", "<not xml");
        forward(f, b.port, "/sample", &req, &resp, 400, "bad_request");
        free(resp.body);
        req = request("VN/GOV/BCA/population/citizen", "001090000001", citizen);
        req.path = "/x";
        forward(f, b.port, "/sample", &req, &resp, 400, "bad_request");
        free(resp.body);
        req = request("VN/GOV", "001090000001", citizen);
        forward(f, b.port, "/sample", &req, &resp, 400, "bad_request");
        free(resp.body);

        adapter_curl_free(f);
        event_base_loopbreak(b.base);
        pthread_join(b.thread, NULL);
        evhttp_free(b.http);
        event_base_free(b.base);
        dataset_reader_free(b.reader);
        dataset_free(d);
        free(b.last);
        {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
                assert(system(cmd) == 0);
        }
        curl_global_cleanup();
        printf("test-soap-adapter: ok\n");
        return 0;
}
