/* cli-audit-cross-export.c: `xbus audit verify-cross` on exports: one node's side of an exchange found in its export */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli-audit-internal.h"
#include "util/macro.h"

static void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

/* The first line of `file`, parsed (NULL: unreadable, or not JSON). */
static json_t *first_line(const char *file)
{
        _cleanup_(fclosep) FILE *f = fopen(file, "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t n;

        if (!f)
                return NULL;
        n = getline(&line, &cap, f);
        if (n <= 0 || (size_t)n > AUDIT_LINE_MAX)
                return NULL;
        return json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
}

bool cli_audit_cross_is_export(const char *file)
{
        _cleanup_(json_decrefp) json_t *h = first_line(file);

        return json_is_object(h) && json_object_get(h, "xbus_export");
}

/* An entry of the export about the X-Road-Id: its sequence number and fields. */
typedef struct Found {
        uint64_t seq;
        json_t *entry;
} Found;

typedef struct Scan {
        const char *id;
        Found answer;  /* the node's entry of the exchange (peer_role set, no stage) */
        Found request; /* the client node's request entry, when the export holds it */
        unsigned n_answers;
        uint64_t start, end; /* the export's range */
} Scan;

static bool id_is_plain(const char *id)
{
        for (const unsigned char *p = (const unsigned char *)id; *p; p++)
                if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '/')
                        return false;
        return true;
}

/* One line {"seq":N,"entry":"..."}: kept when its entry is about the X-Road-Id. */
static void scan_line(Scan *s, const char *line, size_t size)
{
        json_t *l = json_loadb(line, size, JSON_REJECT_DUPLICATES, NULL), *e;
        const char *text = json_string_value(json_object_get(l, "entry"));
        Found *slot;

        e = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
        if (!e || !streq(strempty(json_string_value(json_object_get(e, "xroad_id"))), s->id) ||
            !json_is_string(json_object_get(e, "peer_role")))
                goto out;
        if (json_object_get(e, "stage"))
                slot = &s->request;
        else {
                slot = &s->answer;
                s->n_answers++;
        }
        json_decref(slot->entry);
        slot->entry = json_incref(e);
        slot->seq = (uint64_t)json_integer_value(json_object_get(l, "seq"));
out:
        json_decref(e);
        json_decref(l);
}

/* Every line of the export (already verified), for the X-Road-Id's entries. Return: 0, -errno. */
static int scan_export(const char *file, Scan *s)
{
        _cleanup_(fclosep) FILE *f = fopen(file, "re");
        _cleanup_free_ char *line = NULL;
        bool plain = id_is_plain(s->id), header = true;
        size_t cap = 0;
        ssize_t n;

        if (!f)
                return -errno;
        while ((n = getline(&line, &cap, f)) > 0) {
                if (header) {
                        json_t *h = json_loadb(line, (size_t)n, 0, NULL);
                        s->start = (uint64_t)json_integer_value(json_object_get(h, "start"));
                        s->end = (uint64_t)json_integer_value(json_object_get(h, "end"));
                        json_decref(h);
                        header = false;
                } else if (!plain || strstr(line, s->id)) /* the entry is a JSON string in the line */
                        scan_line(s, line, (size_t)n);
        }
        return ferror(f) ? -EIO : 0;
}

/* The answer entry's request_seq, when the export holds it, names the request entry of the same exchange. */
static const char *check_request_entry(const Scan *s)
{
        json_t *rs = json_object_get(s->answer.entry, "request_seq");
        uint64_t seq;

        if (!json_is_integer(rs))
                return NULL;
        seq = (uint64_t)json_integer_value(rs);
        if (seq < s->start || seq >= s->end)
                return NULL; /* outside the export: nothing to compare */
        if (!s->request.entry || s->request.seq != seq)
                return "the client node's entry names a request entry (request_seq) of another exchange";
        if (!streq(strempty(json_string_value(json_object_get(s->request.entry, "request_hash"))),
                   strempty(json_string_value(json_object_get(s->answer.entry, "request_hash")))))
                return "the client node's request entry and its answer entry disagree on the request hash";
        return NULL;
}

int cli_audit_cross_export_side(const CliCommand *c, const Registry *reg, const char *id, const char *file,
                                const RegistryNode **ret_node, json_t **ret_entry, uint64_t *ret_seq)
{
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_(json_decrefp) json_t *h = first_line(file);
        const char *note = json_string_value(json_object_get(h, "checkpoint")), *why;
        const RegistryNode *node;
        Scan s = { .id = id };
        AuditReport rep;
        int r;

        if (!note)
                return cli_command_failure(c, "\"%s\" is not an export", file);
        node = cli_audit_node_by_origin(reg, note, strcspn(note, "\n"));
        if (!node)
                return cli_command_failure(c, "\"%s\": its checkpoint's origin \"%.*s\" is no node's in the snapshot",
                                           file, (int)MIN(strcspn(note, "\n"), 255U), note);
        if (checkpoint_verifier_from_vkey(&v, node->checkpoint_vkey) != 0)
                return cli_command_failure(c, "node '%s': its checkpoint key in the snapshot cannot be used", node->id);
        r = audit_verify_export(file, &(AuditExportOptions){ .verifier = v }, &rep);
        if (r != 0) {
                printf("FAILED: %s (node '%s'): %s\n", file, node->id, rep.reason ? rep.reason : strerror(-r));
                audit_report_done(&rep);
                return EXIT_FAILURE;
        }
        audit_report_done(&rep);
        r = scan_export(file, &s);
        if (r < 0)
                why = NULL;
        else if (s.n_answers == 0)
                why = "it holds no entry of a node-to-node exchange with this X-Road-Id";
        else if (s.n_answers > 1)
                why = "it holds several entries of node-to-node exchanges with this X-Road-Id (verify with proof "
                      "bundles of the ones you mean)";
        else
                why = check_request_entry(&s);
        if (r < 0 || why) {
                json_decref(s.answer.entry);
                json_decref(s.request.entry);
                if (r < 0)
                        return cli_command_failure(c, "cannot read \"%s\": %s", file, strerror(-r));
                printf("FAILED: %s (node '%s'): %s\n", file, node->id, why);
                return EXIT_FAILURE;
        }
        json_decref(s.request.entry);
        *ret_node = node;
        *ret_entry = s.answer.entry;
        *ret_seq = s.answer.seq;
        return 0;
}
