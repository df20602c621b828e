/* cli-audit-cross.c: `xbus audit verify-cross`: both sides of one node-to-node exchange, offline */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli-audit-internal.h"
#include "registry-snapshot.h"
#include "util/fileio.h"
#include "util/macro.h"
#include "util/strv.h"
#include "util/time-util.h"

typedef struct CrossArgs {
        char **anchors;
        const char *snapshot, *id;
        bool oom;
} CrossArgs;

/* One side: the node whose checkpoint key signed the bundle's (or export's) checkpoint, and the entry it proves. */
typedef struct Side {
        const char *file;
        const char *id; /* the X-Road-Id, to find the entry in an export */
        const RegistryNode *node;
        json_t *entry; /* the stored entry, parsed */
        uint64_t seq;
} Side;

static int cross_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        CrossArgs *a = userdata;

        if (strv_extend(&a->anchors, arg) < 0)
                a->oom = true;
        return 0;
}

/* The snapshot, verified against the anchors (expired is fine: the exchange happened under it). */
static int open_snapshot(const CliCommand *c, const CrossArgs *a, Registry **ret)
{
        _cleanup_(registry_anchors_freep) RegistryAnchors *anchors = NULL;
        _cleanup_(registry_snapshot_freep) RegistrySnapshot *s = NULL;
        _cleanup_free_ char *text = NULL, *why = NULL, *errors = NULL;
        size_t size = 0;
        int r;

        if (registry_anchors_new(&anchors) < 0)
                return cli_command_failure(c, "out of memory");
        for (char **p = a->anchors; p && *p; p++)
                if (registry_anchors_add_file(anchors, *p, &why) < 0)
                        return cli_command_failure(c, "%s", why ? why : "out of memory");
        r = read_full_file(a->snapshot, REGISTRY_SNAPSHOT_MAX + 2, &text, &size);
        if (r < 0)
                return cli_command_failure(c, "cannot read \"%s\": %s", a->snapshot, strerror(-r));
        while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == '\r'))
                text[--size] = 0;
        r = registry_snapshot_open(&s, anchors, text, size, a->snapshot);
        if (r == 0)
                r = registry_snapshot_load(ret, &s, NULL, &errors);
        if (r != 0)
                return cli_command_failure(c, "\"%s\" refused: %s", a->snapshot, registry_snapshot_strerror(r));
        return 0;
}

/* a C2SP vkey is "NAME+HASH+KEY" */
const RegistryNode *cli_audit_node_by_origin(const Registry *reg, const char *origin, size_t len)
{
        const RegistryNode *const *nodes;
        size_t n = registry_nodes(reg, &nodes);

        for (size_t i = 0; i < n; i++)
                if (strncmp(nodes[i]->checkpoint_vkey, origin, len) == 0 && nodes[i]->checkpoint_vkey[len] == '+')
                        return nodes[i];
        return NULL;
}

/* One bundle: its node found by its checkpoint's origin, verified with that node's keys from the snapshot. */
static int verify_side(const CliCommand *c, const Registry *reg, Side *side)
{
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_(json_decrefp) json_t *bundle = NULL, *jwk = NULL;
        _cleanup_free_ char *text = NULL;
        const char *note, *entry;
        AuditReport rep;
        size_t size = 0;
        int r;

        if (cli_audit_cross_is_export(side->file))
                return cli_audit_cross_export_side(c, reg, side->id, side->file, &side->node, &side->entry, &side->seq);
        r = read_full_file(side->file, AUDIT_BUNDLE_MAX, &text, &size);
        if (r < 0)
                return cli_command_failure(c, "cannot read \"%s\": %s", side->file, strerror(-r));
        bundle = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
        note = json_string_value(json_object_get(bundle, "checkpoint"));
        entry = json_string_value(json_object_get(bundle, "entry"));
        if (!note || !entry)
                return cli_command_failure(c, "\"%s\" is not a proof bundle", side->file);
        side->node = cli_audit_node_by_origin(reg, note, strcspn(note, "\n"));
        if (!side->node)
                return cli_command_failure(c, "\"%s\": its checkpoint's origin \"%.*s\" is no node's in the snapshot",
                                           side->file, (int)MIN(strcspn(note, "\n"), 255U), note);
        jwk = json_loads(side->node->receipt_jwk, 0, NULL);
        if (checkpoint_verifier_from_vkey(&v, side->node->checkpoint_vkey) != 0 || !jwk)
                return cli_command_failure(c, "node '%s': its keys in the snapshot cannot be used", side->node->id);
        r = audit_verify_bundle(text, size,
                                &(AuditBundleOptions){ .verifier = v, .receipt_jwk = jwk, .require_receipt = true },
                                &rep);
        if (r != 0) {
                printf("FAILED: %s (node '%s'): %s\n", side->file, side->node->id,
                       rep.reason ? rep.reason : strerror(-r));
                audit_report_done(&rep);
                return EXIT_FAILURE;
        }
        audit_report_done(&rep);
        side->seq = (uint64_t)json_integer_value(json_object_get(bundle, "seq"));
        side->entry = json_loads(entry, JSON_REJECT_DUPLICATES, NULL);
        if (!side->entry)
                return cli_command_failure(c, "\"%s\": the entry is not JSON", side->file);
        return 0;
}

static const char *field(const Side *s, const char *name)
{
        const char *v = json_string_value(json_object_get(s->entry, name));

        return v ? v : "";
}

/* The two entries describe one exchange: the X-Road-Id, the request, and each names the other. */
static int check_pair(const CrossArgs *a, const Side *client, const Side *provider)
{
        const char *why = NULL;
        json_t *peer_seq = json_object_get(client->entry, "peer_seq");

        if (!streq(field(client, "xroad_id"), a->id) || !streq(field(provider, "xroad_id"), a->id))
                why = "an entry is not for this X-Road-Id";
        else if (!field(client, "request_hash")[0] ||
                 !streq(field(client, "request_hash"), field(provider, "request_hash")))
                why = "the two entries do not agree on the request hash";
        else if (!streq(field(client, "peer_node"), provider->node->id) ||
                 !streq(field(provider, "peer_node"), client->node->id))
                why = "the entries do not name each other's node";
        else if (!json_is_integer(peer_seq) || (uint64_t)json_integer_value(peer_seq) != provider->seq)
                why = "the client node's entry does not name the provider node's entry (peer_seq)";
        else if (!streq(field(client, "client"), field(provider, "client")) ||
                 !streq(field(client, "service"), field(provider, "service")))
                why = "the entries disagree on the client or the service";
        if (why) {
                printf("FAILED: %s\n", why);
                return EXIT_FAILURE;
        }
        printf("OK: X-Road-Id %s: client node '%s' entry %" PRIu64 " and provider node '%s' entry %" PRIu64
               ", both in checkpoints signed by the keys the snapshot names, with their receipts; request hash %s\n",
               a->id, client->node->id, client->seq, provider->node->id, provider->seq, field(client, "request_hash"));
        return EXIT_SUCCESS;
}

static int cmd_verify_cross(const CliCommand *c, int argc, char **argv)
{
        CrossArgs a = {};
        _cleanup_(registry_unrefp) Registry *reg = NULL;
        Side sides[2] = {};
        int r;

        r = cli_command_parse(c, &argc, &argv, cross_option, &a);
        if (r != CLI_CONTINUE)
                goto finish;
        if (a.oom) {
                r = cli_command_failure(c, "out of memory");
                goto finish;
        }
        if (argc != 2 || !a.snapshot || !a.anchors || !a.id) {
                r = cli_command_usage_error(c, "--snapshot, --anchor, --id and two files (proof bundles or exports)");
                goto finish;
        }
        r = open_snapshot(c, &a, &reg);
        for (int i = 0; r == 0 && i < 2; i++) {
                sides[i].file = argv[i];
                sides[i].id = a.id;
                r = verify_side(c, reg, &sides[i]);
        }
        if (r == 0) {
                bool first_is_client = streq(field(&sides[0], "peer_role"), "provider");
                Side *cl = &sides[first_is_client ? 0 : 1], *pr = &sides[first_is_client ? 1 : 0];

                if (sides[0].node == sides[1].node) {
                        printf("FAILED: both files are node '%s''s side\n", sides[0].node->id);
                        r = EXIT_FAILURE;
                } else if (!streq(field(cl, "peer_role"), "provider") || !streq(field(pr, "peer_role"), "client")) {
                        printf("FAILED: one entry must be the client node's (peer_role provider), the other the "
                               "provider node's (peer_role client)\n");
                        r = EXIT_FAILURE;
                } else
                        r = check_pair(&a, cl, pr);
        }
finish:
        for (int i = 0; i < 2; i++)
                json_decref(sides[i].entry);
        strv_free(a.anchors);
        return r;
}

static const CliOption verify_cross_options[] = {
        CLI_STRING(0, "snapshot", "FILE", "the registry snapshot the exchange happened under", CrossArgs, snapshot),
        { 0, "anchor", "FILE", "an authority key to trust (PEM public key or JWK); repeatable" },
        CLI_STRING(0, "id", "XROAD-ID", "the exchange's X-Road-Id", CrossArgs, id),
        {},
};

const CliCommand cli_audit_verify_cross = {
        .name = "xbus audit verify-cross",
        .summary = "verify both nodes' sides of one exchange between nodes, offline",
        .usage = "--snapshot FILE --anchor KEY --id XROAD-ID FILE FILE",
        .description = "Verify an exchange between two nodes of a federation offline (docs/federation.md "
                       "\"Auditing\n"
                       "across nodes\"). Each FILE is one node's side: a proof bundle (`xbus audit show --bundle`, "
                       "with\n"
                       "that node's receipt of either form: one JWS, or a group commit's tree head, entry and\n"
                       "inclusion path) or an export (`xbus audit export`), in either order. The snapshot is\n"
                       "verified against the authority's key; each file against the checkpoint key (and a "
                       "bundle's\n"
                       "receipt against the receipt key) the snapshot names for the node its checkpoint comes "
                       "from;\n"
                       "in an export, the node's entry of the exchange is found by its X-Road-Id. Then the two "
                       "entries\n"
                       "must be one exchange: the X-Road-Id, the same request hash, client and service, each "
                       "naming\n"
                       "the other node and the client node naming the provider node's entry.\n",
        .options = verify_cross_options,
        .epilogue = "Examples:\n"
                    "  xbus audit verify-cross --snapshot snapshot.jws --anchor authority.pem --id 4f1c... \\\n"
                    "      byt-17.json bca-42.json\n"
                    "  xbus audit verify-cross --snapshot snapshot.jws --anchor authority.pem --id 4f1c... \\\n"
                    "      byt-2026-12.jsonl bca-2026-12.jsonl\n",
        .operands = true,
        .run = cmd_verify_cross,
};
