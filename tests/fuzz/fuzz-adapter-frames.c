/* fuzz-adapter-frames.c: what an adapter sends, as the node reads it (READY, REP meta), and ZAP requests */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/proto.h"
#include "util/macro.h"

/*
 * The first byte picks the parser: 'R' READY, 'P' a REP's meta frame, 'Z' a
 * ZAP request whose frames are the rest split at each 0xff byte. What a
 * parser accepts must hold its promises; a REP's meta read without a tree
 * must be what jansson's tree gives.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ProtoFrame frames[8];
        char key[KEYFILE_CURVE_LEN + 1];
        ProtoReady ready;
        ProtoReply reply, tree;
        size_t n = 0, start = 1;

        if (size == 0)
                return 0;
        switch (data[0]) {
        case 'R':
                if (proto_ready_parse(data + 1, size - 1, &ready) == 0) {
                        if (ready.n_services == 0 || ready.n_services > PROTO_MAX_SERVICES || ready.capacity == 0 ||
                            ready.capacity > PROTO_MAX_CAPACITY)
                                abort();
                        for (size_t i = 0; i < ready.n_services; i++)
                                if (!*ready.services[i] || strlen(ready.services[i]) > 255 ||
                                    (i > 0 && strcmp(ready.services[i - 1], ready.services[i]) > 0))
                                        abort();
                        proto_ready_done(&ready);
                }
                break;
        case 'P':
                proto_reply_parse(data + 1, size - 1, &reply);
                if (reply.error == PROBLEM_NONE && (reply.status < 200 || reply.status > 599))
                        abort();
                if (!memchr(reply.detail, 0, sizeof(reply.detail)) ||
                    !memchr(reply.content_type, 0, sizeof(reply.content_type)))
                        abort();
                /* read without a tree, it is what jansson's tree gives */
                proto_reply_parse_tree(data + 1, size - 1, &tree);
                if (reply.error != tree.error || reply.status != tree.status || !streq(reply.detail, tree.detail) ||
                    !streq(reply.content_type, tree.content_type) || !reply.headers != !tree.headers ||
                    (reply.headers && !json_equal(reply.headers, tree.headers)))
                        abort();
                proto_reply_done(&reply);
                proto_reply_done(&tree);
                break;
        case 'Z':
                for (size_t i = 1; i <= size && n < ELEMENTSOF(frames); i++)
                        if (i == size || data[i] == 0xff) {
                                frames[n++] = (ProtoFrame){ data + start, i - start };
                                start = i + 1;
                        }
                if (proto_zap_parse(frames, n, key) == 0 && !keyfile_curve_valid(key))
                        abort();
                break;
        }
        return 0;
}
