/* test-frontdoor.c: starting and stopping the front door, and a failed start that leaves the process's files alone */
#include <arpa/inet.h>
#include <assert.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "crypto/pki.h"
#include "http/frontdoor.h"
#include "tests/support/test-util.h"

static char *dir, cert[512], key[512], ca[512];

static FrontDoorOptions options(const char *listen, unsigned threads)
{
        return (FrontDoorOptions){ .listen = listen,
                                   .threads = threads,
                                   .max_header_size = 8192,
                                   .max_body_size = 65536,
                                   .timeout_ms = 1000,
                                   .max_connections = 16,
                                   .tls_cert = cert,
                                   .tls_key = key,
                                   .client_ca = ca };
}

/* A port something else listens on. */
static int taken_port(int *ret_fd)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        assert(fd >= 0);
        assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(fd, 1) == 0);
        assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        *ret_fd = fd;
        return ntohs(sa.sin_port);
}

/*
 * A start that fails after the first worker (the port is taken) tears down
 * every worker, also those it never reached: their mailboxes were never
 * opened, so nothing may be closed on their behalf. A zeroed mailbox holds fd
 * 0, and closing it would take the process's standard input (or whatever file
 * has number 0 by then) away from it, once per unreached worker.
 */
static void test_failed_start_keeps_fd0(void)
{
        Node node = {};
        FrontDoor *fd = NULL;
        char listen[64], *error = NULL;
        int busy, port = taken_port(&busy), zero;

        /* fd 0 is a file we own and can recognise */
        zero = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert(zero >= 0);
        assert(dup2(zero, 0) == 0);
        close(zero);

        snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
        assert(frontdoor_new(&fd, &(FrontDoorOptions){ 0 }, &node, &error) < 0); /* no listen address */
        free(error);
        error = NULL;
        {
                FrontDoorOptions o = options(listen, 4);
                assert(frontdoor_new(&fd, &o, &node, &error) == -EADDRINUSE);
        }
        assert(error && strstr(error, listen));
        printf("failed start: %s\n", error);
        free(error);
        assert(fcntl(0, F_GETFD) >= 0); /* still open */
        close(busy);
}

static void test_start_stop(void)
{
        Node node = {};
        FrontDoor *fd = NULL;
        char *error = NULL;
        FrontDoorOptions o = options("127.0.0.1:0", 3);

        assert(frontdoor_new(&fd, &o, &node, &error) == 0);
        assert(!error);
        assert(frontdoor_port(fd) > 0);
        assert(frontdoor_free(fd) == NULL);
        assert(frontdoor_free(NULL) == NULL);
        /* TLS material that does not load is named in the error */
        o.tls_key = ca;
        assert(frontdoor_new(&fd, &o, &node, &error) == -EINVAL);
        assert(error && strstr(error, "TLS setup failed"));
        free(error);
}

int main(void)
{
        char *error = NULL;

        dir = test_tmpdir("frontdoor");
        assert(pki_demo_ensure(dir, NULL, 0, NULL, 0, &error) == 0);
        snprintf(cert, sizeof(cert), "%s/node.crt", dir);
        snprintf(key, sizeof(key), "%s/node.key", dir);
        snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
        test_start_stop();
        test_failed_start_keeps_fd0();
        test_rm_rf(dir);
        free(dir);
        printf("frontdoor: ok\n");
        return 0;
}
