/* test-segment.c: segment files: records and their CRC, a torn or damaged tail, space allocated ahead, listing */
#include <assert.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/segment.h"

typedef struct Seen {
        unsigned n;
        uint64_t last_end;
        char payloads[16][32];
} Seen;

static int on_record(void *userdata, uint8_t type, const uint8_t *payload, size_t n, uint64_t end)
{
        Seen *s = userdata;

        assert(type == SEGMENT_ENTRY && n < sizeof(s->payloads[0]) && s->n < 16);
        memcpy(s->payloads[s->n], payload, n);
        s->payloads[s->n][n] = 0;
        s->n++;
        s->last_end = end;
        return 0;
}

static void record(SegmentBuf *b, const char *text)
{
        long at = segment_record_begin(b, SEGMENT_ENTRY);

        assert(at >= 0);
        assert(segment_buf_put(b, text, strlen(text)) == 0);
        assert(segment_record_end(b, at) == 0);
}

static uint64_t file_size(const char *dir, const char *name)
{
        char path[256];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        assert(stat(path, &st) == 0);
        return (uint64_t)st.st_size;
}

static void poke(const char *dir, const char *name, uint64_t offset, uint8_t byte)
{
        char path[256];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CREAT, 0600);
        assert(fd >= 0 && pwrite(fd, &byte, 1, (off_t)offset) == 1);
        close(fd);
}

int main(void)
{
        char dir[] = "/tmp/test-segment-XXXXXX", name[SEGMENT_NAME_LEN + 1], cmd[64];
        Segment seg = SEGMENT_NULL;
        SegmentBuf b = { 0 };
        SegmentFile *files;
        Seen seen = { 0 };
        uint64_t end, one_end;
        size_t n;
        int dir_fd;

        /* CRC-32C check value (RFC 3720, "123456789") */
        assert(segment_crc32c(0, "123456789", 9) == 0xe3069283);

        assert(mkdtemp(dir));
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY);
        assert(dir_fd >= 0);
        assert(segment_create(&seg, dir, dir_fd, 42) == 0);
        segment_name(name, 42);
        assert(strcmp(name, "000000000000002a.seg") == 0);

        record(&b, "one");
        assert(segment_append(&seg, b.data, b.size) == 0 && segment_sync(&seg) == 0);
        one_end = seg.size;
        b.size = 0;
        record(&b, "two");
        record(&b, "three");
        assert(segment_append(&seg, b.data, b.size) == 0 && segment_sync(&seg) == 0);
        /* space was allocated ahead: the file is longer than its records, zeros follow them */
        assert(file_size(dir, name) > seg.size);
        assert(segment_read(dir, name, 42, on_record, &seen, &end) == 0);
        assert(seen.n == 3 && end == seg.size && seen.last_end == end);
        assert(strcmp(seen.payloads[0], "one") == 0 && strcmp(seen.payloads[2], "three") == 0);
        /* the wrong first sequence number: not this file's header */
        seen = (Seen){ 0 };
        assert(segment_read(dir, name, 43, on_record, &seen, &end) == -EBADMSG && seen.n == 0 && end == 0);

        /* a damaged byte in the second record: reading stops after the first */
        poke(dir, name, one_end + SEGMENT_RECORD_HEADER + 2, 'X');
        seen = (Seen){ 0 };
        assert(segment_read(dir, name, 42, on_record, &seen, &end) == 0);
        assert(seen.n == 1 && end == one_end);

        /* continuing the file there cuts the rest (and the space ahead) off */
        segment_close(&seg);
        assert(segment_open(&seg, dir, dir_fd, name, 42, end) == 0);
        assert(file_size(dir, name) == one_end && seg.size == one_end);
        b.size = 0;
        record(&b, "four");
        assert(segment_append(&seg, b.data, b.size) == 0 && segment_sync(&seg) == 0);
        /* finishing cuts the space ahead: only the last file ends in anything but records */
        assert(segment_finish(&seg) == 0 && file_size(dir, name) == seg.size);
        seen = (Seen){ 0 };
        assert(segment_read(dir, name, 42, on_record, &seen, &end) == 0);
        assert(seen.n == 2 && strcmp(seen.payloads[1], "four") == 0 && end == seg.size);
        /* a torn tail: the last record cut short */
        {
                char path[256];
                snprintf(path, sizeof(path), "%s/%s", dir, name);
                assert(truncate(path, (off_t)(seg.size - 2)) == 0);
        }
        seen = (Seen){ 0 };
        assert(segment_read(dir, name, 42, on_record, &seen, &end) == 0);
        assert(seen.n == 1 && end == one_end);
        segment_close(&seg);

        /* listing: sorted by first sequence number, other names ignored */
        assert(segment_create(&seg, dir, dir_fd, 7) == 0);
        segment_close(&seg);
        poke(dir, "notes.txt", 0, 'x');
        assert(segment_list(dir, &files, &n) == 0);
        assert(n == 2 && files[0].first_seq == 7 && files[1].first_seq == 42);
        free(files);
        assert(segment_remove(dir, "0000000000000007.seg") == 0);
        assert(segment_list(dir, &files, &n) == 0 && n == 1);
        free(files);

        segment_buf_done(&b);
        close(dir_fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert(system(cmd) == 0);
        printf("segment: ok\n");
        return 0;
}
