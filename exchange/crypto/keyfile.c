/* keyfile.c: read key files (PEM, CURVE), refusing private ones that group or others may access */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <zmq.h>

#include "crypto/keyfile.h"
#include "util/macro.h"

int keyfile_read(const char *path, bool private, void *buf, size_t max, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t n = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if (private && (st.st_mode & 077))
                return -EPERM;
        if ((size_t)st.st_size > max)
                return -EINVAL;

        /* Read at most one byte more than allowed: a file that grew is still refused. */
        while (n <= max) {
                ssize_t l = read(fd, (char *)buf + n, max + 1 - n);

                if (l < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (l == 0)
                        break;
                n += (size_t)l;
        }
        if (n > max)
                return -EINVAL;
        *ret_size = n;
        return 0;
}

int keyfile_no_password(char *buf, int size, int rwflag, void *userdata)
{
        return -1;
}

int keyfile_pem_load(const char *path, bool private, EVP_PKEY **ret)
{
        _cleanup_free_ char *buf = NULL;
        EVP_PKEY *pkey = NULL;
        BIO *bio;
        size_t n;
        int r;

        buf = malloc(KEYFILE_PEM_MAX + 1);
        if (!buf)
                return -ENOMEM;
        r = keyfile_read(path, private, buf, KEYFILE_PEM_MAX, &n);
        if (r < 0)
                goto out;

        bio = BIO_new_mem_buf(buf, (int)n);
        if (!bio) {
                r = -ENOMEM;
                goto out;
        }
        pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, keyfile_no_password, NULL)
                       : PEM_read_bio_PUBKEY(bio, NULL, keyfile_no_password, NULL);
        BIO_free(bio);
        if (!pkey) {
                ERR_clear_error();
                r = -EINVAL;
                goto out;
        }
        *ret = pkey;
        r = 0;
out:
        OPENSSL_cleanse(buf, KEYFILE_PEM_MAX + 1);
        return r;
}

bool keyfile_curve_valid(const char *s)
{
        uint8_t raw[32];

        return s && strlen(s) == KEYFILE_CURVE_LEN && zmq_z85_decode(raw, s);
}

int keyfile_curve_load(const char *path, bool private, char ret[KEYFILE_CURVE_LEN + 1])
{
        char buf[256], *s;
        size_t n, k;
        int r;

        r = keyfile_read(path, private, buf, sizeof(buf) - 1, &n);
        if (r < 0)
                return r;
        buf[n] = 0;
        s = buf + strspn(buf, " \t\r\n");
        k = strcspn(s, " \t\r\n");
        s[k] = 0;
        r = keyfile_curve_valid(s) ? 0 : -EINVAL;
        if (r == 0)
                memcpy(ret, s, KEYFILE_CURVE_LEN + 1);
        OPENSSL_cleanse(buf, sizeof(buf));
        return r;
}
