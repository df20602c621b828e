/* test-notify.c: the sd_notify datagram reaches a path socket and an abstract one; no socket, no message */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/notify.h"
#include "util/macro.h"

/* Bind a datagram socket at `addr` (a path, or "@name") and point NOTIFY_SOCKET at it. Return: the fd. */
static int listen_at(const char *addr)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(addr);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        assert(fd >= 0);
        assert(len < sizeof(sa.sun_path));
        memcpy(sa.sun_path, addr, len);
        if (addr[0] == '@')
                sa.sun_path[0] = 0;
        assert(bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == 0);
        assert(setenv("NOTIFY_SOCKET", addr, 1) == 0);
        return fd;
}

static void expect(int fd, const char *prefix)
{
        char buf[256];
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

        assert(n > 0);
        buf[n] = 0;
        assert(strneq(buf, prefix, strlen(prefix)));
}

int main(void)
{
        char dir[] = "/tmp/test-notify-XXXXXX", path[256], abstract[64];
        int fd;

        /* Not under a service manager: nothing to do, and no error. */
        assert(unsetenv("NOTIFY_SOCKET") == 0);
        assert(notify_send("READY=1") == 0);
        assert(setenv("NOTIFY_SOCKET", "", 1) == 0);
        assert(notify_send("READY=1") == 0);

        /* A socket in the file system, as systemd gives it. */
        assert(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/notify", dir);
        fd = listen_at(path);
        assert(notify_send("READY=1") == 1);
        expect(fd, "READY=1");
        assert(notify_reloading() == 1);
        expect(fd, "RELOADING=1\nMONOTONIC_USEC=");
        assert(notify_send("STOPPING=1") == 1);
        expect(fd, "STOPPING=1");
        close(fd);
        assert(unlink(path) == 0);
        assert(rmdir(dir) == 0);

        /* The abstract namespace ("@name"). */
        snprintf(abstract, sizeof(abstract), "@xbus-test-notify-%d", (int)getpid());
        fd = listen_at(abstract);
        assert(notify_send("READY=1\nSTATUS=serving") == 1);
        expect(fd, "READY=1\nSTATUS=serving");
        close(fd);

        /* Addresses systemd never gives are refused, not guessed at. */
        assert(setenv("NOTIFY_SOCKET", "relative/path", 1) == 0);
        assert(notify_send("READY=1") == -EINVAL);
        assert(setenv("NOTIFY_SOCKET", "@", 1) == 0);
        assert(notify_send("READY=1") == -EINVAL);
        /* Nobody listening: the error comes back, the caller decides (xbusd warns and goes on). */
        assert(setenv("NOTIFY_SOCKET", "/nonexistent/xbus-notify", 1) == 0);
        assert(notify_send("READY=1") < 0);
        printf("notify: ok\n");
        return 0;
}
