/* fuzz-consent-nodes.c: the consent API's bodies across nodes (an accesses query, another node's answer) and the merge */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/consent-nodes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        ConsentNodesQuery q;
        json_t *items = NULL, *pages, *out = NULL;
        uint64_t next = 0;
        char why[160];

        for (int cursors = 0; cursors < 2; cursors++)
                if (consent_nodes_query_parse(data, size, cursors, &q, why, sizeof(why)) == 0)
                        json_decref(q.cursors);
        if (consent_nodes_answer_parse(data, size, &items, &next) != 0)
                return 0;
        /* the same page as two nodes': merged, each item once per node, the peers' lines dropped or kept */
        pages = json_pack("{s:O,s:o}", "bca", items, "byt", json_deep_copy(items));
        json_decref(items);
        if (pages && consent_nodes_merge(pages, NULL, &out) == 0)
                json_decref(out);
        json_decref(pages);
        return 0;
}
