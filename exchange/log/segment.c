/* segment.c: the exchange log's segment files (records with a CRC-32C, one fdatasync per group commit) */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/segment.h"

/* ---- CRC-32C ------------------------------------------------------------------ */

static uint32_t crc_table[8][256];

static void crc_table_init(void)
{
        for (uint32_t i = 0; i < 256; i++) {
                uint32_t c = i;
                for (int k = 0; k < 8; k++)
                        c = c & 1 ? (c >> 1) ^ 0x82f63b78U : c >> 1;
                crc_table[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; i++)
                for (int t = 1; t < 8; t++)
                        crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xff];
}

/* Slicing by 8: the portable path. */
static uint32_t crc_soft(uint32_t crc, const uint8_t *p, size_t n)
{
        for (; n >= 8; n -= 8, p += 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                w = le64toh(w) ^ crc;
                crc = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^ crc_table[5][(w >> 16) & 0xff] ^
                      crc_table[4][(w >> 24) & 0xff] ^ crc_table[3][(w >> 32) & 0xff] ^ crc_table[2][(w >> 40) & 0xff] ^
                      crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
        }
        while (n--)
                crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xff];
        return crc;
}

#if defined(__x86_64__)
/* The SSE 4.2 instruction computes exactly this polynomial. */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
        uint64_t c = crc;

        for (; n >= 8; n -= 8, p += 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                c = __builtin_ia32_crc32di(c, w);
        }
        crc = (uint32_t)c;
        while (n--)
                crc = __builtin_ia32_crc32qi(crc, *p++);
        return crc;
}
#endif

static bool crc_hardware;
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
        crc_table_init();
#if defined(__x86_64__)
        __builtin_cpu_init();
        crc_hardware = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t segment_crc32c(uint32_t crc, const void *data, size_t n)
{
        (void)pthread_once(&crc_once, crc_init);
        crc = ~crc;
#if defined(__x86_64__)
        if (crc_hardware)
                return ~crc_hw(crc, data, n);
#endif
        return ~crc_soft(crc, data, n);
}

/* ---- building records ----------------------------------------------------------- */

int segment_buf_reserve(SegmentBuf *b, size_t n, uint8_t **ret)
{
        if (b->size + n > b->allocated) {
                size_t want = MAX(b->allocated * 2, b->size + n + KIB(4));
                uint8_t *d = realloc(b->data, want);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->allocated = want;
        }
        *ret = b->data + b->size;
        b->size += n;
        return 0;
}

int segment_buf_put(SegmentBuf *b, const void *data, size_t n)
{
        uint8_t *p;
        int r = segment_buf_reserve(b, n, &p);

        if (r < 0)
                return r;
        if (n)
                memcpy(p, data, n);
        return 0;
}

int segment_put_u16(SegmentBuf *b, uint16_t v)
{
        v = htole16(v);
        return segment_buf_put(b, &v, 2);
}

int segment_put_u32(SegmentBuf *b, uint32_t v)
{
        v = htole32(v);
        return segment_buf_put(b, &v, 4);
}

int segment_put_u64(SegmentBuf *b, uint64_t v)
{
        v = htole64(v);
        return segment_buf_put(b, &v, 8);
}

long segment_record_begin(SegmentBuf *b, uint8_t type)
{
        size_t at = b->size;
        uint8_t *p;
        int r = segment_buf_reserve(b, SEGMENT_RECORD_HEADER + 1, &p);

        if (r < 0)
                return r;
        p[SEGMENT_RECORD_HEADER] = type;
        return (long)at;
}

int segment_record_end(SegmentBuf *b, long offset)
{
        uint8_t *rec = b->data + offset;
        size_t body = b->size - (size_t)offset - SEGMENT_RECORD_HEADER;
        uint32_t size, crc;

        if (body > SEGMENT_RECORD_MAX)
                return -E2BIG;
        size = htole32((uint32_t)body);
        memcpy(rec, &size, 4);
        crc = segment_crc32c(segment_crc32c(0, rec, 4), rec + SEGMENT_RECORD_HEADER, body);
        crc = htole32(crc);
        memcpy(rec + 4, &crc, 4);
        return 0;
}

void segment_buf_done(SegmentBuf *b)
{
        free(b->data);
        *b = (SegmentBuf){ 0 };
}

/* ---- the file being appended to ------------------------------------------------- */

void segment_name(char buf[SEGMENT_NAME_LEN + 1], uint64_t first_seq)
{
        snprintf(buf, SEGMENT_NAME_LEN + 1, "%016" PRIx64 ".seg", first_seq);
}

static int open_file(const char *dir, const char *name, int flags)
{
        char path[4096];
        int fd;

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, flags | O_CLOEXEC, 0600);
        return fd < 0 ? -errno : fd;
}

static int write_all(int fd, const void *data, size_t n, uint64_t offset)
{
        const uint8_t *p = data;

        while (n > 0) {
                ssize_t k = pwrite(fd, p, n, (off_t)offset);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t)k;
                offset += (uint64_t)k;
        }
        return 0;
}

int segment_create(Segment *s, const char *dir, int dir_fd, uint64_t first_seq)
{
        char name[SEGMENT_NAME_LEN + 1];
        SegmentBuf b = { 0 };
        long at;
        int fd, r;

        segment_name(name, first_seq);
        fd = open_file(dir, name, O_RDWR | O_CREAT | O_TRUNC);
        if (fd < 0)
                return fd;
        at = segment_record_begin(&b, SEGMENT_HEADER);
        r = at < 0 ? (int)at : segment_put_u32(&b, SEGMENT_VERSION);
        if (r >= 0)
                r = segment_put_u64(&b, first_seq);
        if (r >= 0)
                r = segment_record_end(&b, at);
        if (r >= 0)
                r = write_all(fd, b.data, b.size, 0);
        if (r >= 0 && fdatasync(fd) < 0)
                r = -errno;
        if (r >= 0 && fsync(dir_fd) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                segment_buf_done(&b);
                return r;
        }
        *s = (Segment){ .fd = fd,
                        .dir = dir,
                        .dir_fd = dir_fd,
                        .first_seq = first_seq,
                        .durable = b.size,
                        .size = b.size,
                        .allocated = b.size };
        segment_buf_done(&b);
        return 0;
}

int segment_open(Segment *s, const char *dir, int dir_fd, const char *name, uint64_t first_seq, uint64_t valid_end)
{
        struct stat st;
        int fd, r = 0;

        fd = open_file(dir, name, O_RDWR);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if ((uint64_t)st.st_size != valid_end && (ftruncate(fd, (off_t)valid_end) < 0 || fdatasync(fd) < 0))
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        *s = (Segment){ .fd = fd,
                        .dir = dir,
                        .dir_fd = dir_fd,
                        .first_seq = first_seq,
                        .durable = valid_end,
                        .size = valid_end,
                        .allocated = valid_end };
        return 0;
}

void segment_close(Segment *s)
{
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

int segment_repair(Segment *s)
{
        if (!s->repair)
                return 0;
        if (ftruncate(s->fd, (off_t)s->durable) < 0 || fdatasync(s->fd) < 0)
                return -errno;
        s->size = s->allocated = s->durable;
        s->repair = false;
        return 0;
}

int segment_finish(Segment *s)
{
        if (s->fd < 0 || s->repair || s->durable != s->size)
                return -EBADF;
        if (s->allocated == s->size)
                return 0;
        if (ftruncate(s->fd, (off_t)s->size) < 0 || fdatasync(s->fd) < 0)
                return -errno;
        s->allocated = s->size;
        return 0;
}

/* Allocate space ahead for `n` more bytes (zeros until written); a file system without fallocate gets appends. */
static void preallocate(Segment *s, size_t n)
{
        uint64_t want = MAX((uint64_t)n, SEGMENT_PREALLOC);

        if (s->no_prealloc || s->size + n <= s->allocated)
                return;
        if (fallocate(s->fd, 0, (off_t)s->allocated, (off_t)want) < 0) {
                s->no_prealloc = errno == EOPNOTSUPP || errno == ENOSYS;
                return;
        }
        s->allocated += want;
}

int segment_append(Segment *s, const void *data, size_t n)
{
        int r;

        if (s->fd < 0)
                return -EBADF;
        r = segment_repair(s);
        if (r < 0)
                return r;
        preallocate(s, n);
        r = write_all(s->fd, data, n, s->size);
        s->size += n;
        s->allocated = MAX(s->allocated, s->size);
        if (r < 0) {
                /* whatever part got written is cut off, now if the disk lets us, else before the next append */
                s->repair = true;
                (void)segment_repair(s);
        }
        return r;
}

int segment_sync(Segment *s)
{
        int r;

        if (s->fd < 0)
                return -EBADF;
        if (fdatasync(s->fd) == 0) {
                s->durable = s->size;
                return 0;
        }
        r = -errno;
        s->repair = true;
        (void)segment_repair(s);
        return r;
}

/* ---- reading ---------------------------------------------------------------------- */

static int file_cmp(const void *a, const void *b)
{
        const SegmentFile *x = a, *y = b;

        return (x->first_seq > y->first_seq) - (x->first_seq < y->first_seq);
}

static bool parse_name(const char *name, uint64_t *ret)
{
        uint64_t v = 0;

        if (strlen(name) != SEGMENT_NAME_LEN || strcmp(name + 16, ".seg") != 0)
                return false;
        for (int i = 0; i < 16; i++) {
                char c = name[i];
                if (c >= '0' && c <= '9')
                        v = v << 4 | (uint64_t)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v = v << 4 | (uint64_t)(c - 'a' + 10);
                else
                        return false;
        }
        *ret = v;
        return true;
}

int segment_list(const char *dir, SegmentFile **ret, size_t *ret_n)
{
        DIR *d = opendir(dir);
        SegmentFile *files = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;

        if (!d)
                return -errno;
        while ((errno = 0, de = readdir(d))) {
                uint64_t first;

                if (!parse_name(de->d_name, &first))
                        continue;
                if (n == allocated) {
                        SegmentFile *f = realloc(files, (allocated = allocated * 2 + 8) * sizeof(*files));
                        if (!f) {
                                free(files);
                                closedir(d);
                                return -ENOMEM;
                        }
                        files = f;
                }
                files[n].first_seq = first;
                memcpy(files[n].name, de->d_name, SEGMENT_NAME_LEN + 1);
                n++;
        }
        closedir(d);
        if (n)
                qsort(files, n, sizeof(*files), file_cmp);
        *ret = files;
        *ret_n = n;
        return 0;
}

int segment_remove(const char *dir, const char *name)
{
        char path[4096];

        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
                return -ENAMETOOLONG;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

/* The record at `p` (of `left` bytes): its body and length, or false when it is torn or damaged. */
static bool record_valid(const uint8_t *p, size_t left, const uint8_t **ret_body, size_t *ret_len)
{
        uint32_t size, crc;

        if (left < SEGMENT_RECORD_HEADER + 1)
                return false;
        memcpy(&size, p, 4);
        memcpy(&crc, p + 4, 4);
        size = le32toh(size);
        if (size < 1 || size > SEGMENT_RECORD_MAX || size > left - SEGMENT_RECORD_HEADER)
                return false;
        if (segment_crc32c(segment_crc32c(0, p, 4), p + SEGMENT_RECORD_HEADER, size) != le32toh(crc))
                return false;
        *ret_body = p + SEGMENT_RECORD_HEADER;
        *ret_len = size;
        return true;
}

static int header_check(const uint8_t *body, size_t len, uint64_t first_seq)
{
        SegmentCursor c = { .p = body + 1, .n = len - 1 };
        uint32_t version;
        uint64_t first;

        if (body[0] != SEGMENT_HEADER || segment_get_u32(&c, &version) < 0 || segment_get_u64(&c, &first) < 0)
                return -EBADMSG;
        if (version != SEGMENT_VERSION)
                return -EPROTONOSUPPORT;
        return first == first_seq ? 0 : -EBADMSG;
}

int segment_read(const char *dir, const char *name, uint64_t first_seq, SegmentRecordFn fn, void *userdata,
                 uint64_t *ret_end)
{
        const uint8_t *map = NULL, *body;
        struct stat st;
        size_t off = 0, len;
        int fd, r = 0;

        *ret_end = 0;
        fd = open_file(dir, name, O_RDONLY);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (st.st_size > 0) {
                map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (map == MAP_FAILED)
                        r = -errno;
        }
        close(fd);
        if (r < 0 || st.st_size == 0)
                return r;
        if (record_valid(map, (size_t)st.st_size, &body, &len)) {
                r = header_check(body, len, first_seq);
                if (r == 0) {
                        off = SEGMENT_RECORD_HEADER + len;
                        *ret_end = off;
                }
        }
        while (r == 0 && off < (size_t)st.st_size && record_valid(map + off, (size_t)st.st_size - off, &body, &len)) {
                off += SEGMENT_RECORD_HEADER + len;
                r = fn(userdata, body[0], body + 1, len - 1, off);
                if (r >= 0)
                        *ret_end = off;
        }
        munmap((void *)map, (size_t)st.st_size);
        return r;
}

/* ---- payload fields ---------------------------------------------------------------- */

int segment_get_bytes(SegmentCursor *c, size_t n, const uint8_t **ret)
{
        if (c->n < n)
                return -EBADMSG;
        *ret = c->p;
        c->p += n;
        c->n -= n;
        return 0;
}

int segment_get_u8(SegmentCursor *c, uint8_t *ret)
{
        const uint8_t *p;
        int r = segment_get_bytes(c, 1, &p);

        if (r == 0)
                *ret = p[0];
        return r;
}

int segment_get_u16(SegmentCursor *c, uint16_t *ret)
{
        const uint8_t *p;
        uint16_t v;
        int r = segment_get_bytes(c, 2, &p);

        if (r == 0) {
                memcpy(&v, p, 2);
                *ret = le16toh(v);
        }
        return r;
}

int segment_get_u32(SegmentCursor *c, uint32_t *ret)
{
        const uint8_t *p;
        uint32_t v;
        int r = segment_get_bytes(c, 4, &p);

        if (r == 0) {
                memcpy(&v, p, 4);
                *ret = le32toh(v);
        }
        return r;
}

int segment_get_u64(SegmentCursor *c, uint64_t *ret)
{
        const uint8_t *p;
        uint64_t v;
        int r = segment_get_bytes(c, 8, &p);

        if (r == 0) {
                memcpy(&v, p, 8);
                *ret = le64toh(v);
        }
        return r;
}
