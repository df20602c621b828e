/* fileio.c: whole files */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "util/fileio.h"
#include "util/macro.h"

int read_full_file(const char *path, size_t max_size, char **ret_text, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_size)
                return -EFBIG;

        /* Read in chunks: the size may change under us, and pipes have none. */
        for (;;) {
                ssize_t k;

                if (size == allocated) {
                        size_t n = allocated ? allocated * 2 : 16384;
                        char *b;

                        if (allocated > max_size)
                                return -EFBIG;
                        n = MIN(n, max_size + 1);
                        b = realloc(buf, n + 1);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        allocated = n;
                }
                k = read(fd, buf + size, allocated - size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t)k;
                if (size > max_size)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;
        *ret_text = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}
