/* cli-audit-offline.c: `xbus audit` commands that need no node: key, verify, verify-export, verify-proof */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit/audit-verify.h"
#include "cli/cli-audit-internal.h"
#include "cli/cli-log.h"
#include "cli/cli-node.h"
#include "cli/cli-receipt.h"
#include "log/checkpoint.h"
#include "log/exlog.h"
#include "util/macro.h"

#define DEFAULT_ORIGIN "xbus.local"
#define HELD_HELP "a checkpoint obtained earlier (repeatable, at most " STRINGIFY(AUDIT_HELD_MAX) ")"
#define VKEY_REQUIRED_HELP "the node's checkpoint verifier key (VKEY or @FILE; required)"

static double now_seconds(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- keys ------------------------------------------------------------------ */

/* The origin of the latest stored checkpoint of STATE/log, or NULL. */
static char *log_origin(const char *state)
{
        _cleanup_(exlog_reader_closep) ExlogReader *r = NULL;
        _cleanup_(checkpoint_freep) Checkpoint *c = NULL;
        _cleanup_free_ char *note = NULL;
        uint64_t size;

        if (cli_log_open(state, &r, NULL) < 0 || exlog_reader_checkpoint(r, 0, &note, &size) < 0 ||
            checkpoint_parse(note, strlen(note), &c) != 0)
                return NULL;
        return strdup(c->origin);
}

/* The verifier: --vkey when given, else STATE/pki/log.pub under the log's origin (or `name`). */
static int verifier_for(const char *vkey, const char *state, const char *name, CheckpointVerifier **ret, char **err)
{
        _cleanup_free_ char *pub = NULL, *origin = NULL;
        int r;

        if (vkey)
                return audit_verifier_load(vkey, ret, err);
        if (!name)
                name = origin = log_origin(state);
        if (asprintf(&pub, "%s/pki/log.pub", state) < 0)
                return -ENOMEM;
        r = checkpoint_verifier_load(ret, name ? name : DEFAULT_ORIGIN, pub);
        if (r != 0)
                return error_set(err, r < 0 ? r : -EINVAL, "cannot load the log's public key \"%s\": %s", pub,
                                 r > 0 ? checkpoint_strerror(r) : strerror(-r));
        return 0;
}

/* The checkpoints obtained earlier (--checkpoint FILE, repeatable): paths, then what they hold. */
typedef struct Held {
        const char *paths[AUDIT_HELD_MAX];
        Checkpoint *cps[AUDIT_HELD_MAX];
        size_t n;
} Held;

/* Return: false when AUDIT_HELD_MAX are given already. */
static bool held_add(Held *h, const char *path)
{
        if (h->n == AUDIT_HELD_MAX)
                return false;
        h->paths[h->n++] = path;
        return true;
}

static int held_load(Held *h, const CheckpointVerifier *v, char **err)
{
        for (size_t i = 0; i < h->n; i++) {
                int r = audit_checkpoint_load(h->paths[i], v, &h->cps[i], err);
                if (r != 0)
                        return r < 0 ? r : -EINVAL;
        }
        return 0;
}

static void held_done(Held *h)
{
        for (size_t i = 0; i < h->n; i++)
                h->cps[i] = checkpoint_free(h->cps[i]);
}

/* The options of every command here (each table lists its own). */
typedef struct OfflineArgs {
        const char *state, *vkey, *earlier, *jwk, *name; /* as given, or NULL */
        bool require_receipt;
        Held held;
} OfflineArgs;

/* --checkpoint FILE, the one option not stored */
static int offline_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        OfflineArgs *a = userdata;

        if (!held_add(&a->held, arg))
                return cli_command_usage_error(c, "at most %d --checkpoint", AUDIT_HELD_MAX);
        return 0;
}

static void offline_args_done(OfflineArgs *a)
{
        held_done(&a->held);
}

/* --- key ------------------------------------------------------------------------- */

int cli_audit_vkey(const char *state, const char *name, char **ret, char **ret_err)
{
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        int r;

        r = verifier_for(NULL, state, name, &v, ret_err);
        if (r < 0)
                return r;
        return checkpoint_verifier_vkey(v, ret);
}

static int cmd_key(const CliCommand *c, int argc, char **argv)
{
        _cleanup_(offline_args_done) OfflineArgs a = { .state = CLI_NODE_DEFAULT_STATE };
        _cleanup_free_ char *err = NULL, *vk = NULL;
        int r;

        r = cli_command_parse(c, &argc, &argv, offline_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        r = cli_audit_vkey(a.state, a.name, &vk, &err);
        if (r < 0)
                return cli_command_failure(c, "%s", err ? err : strerror(-r));
        printf("%s\n", vk);
        return EXIT_SUCCESS;
}

static const CliOption key_options[] = {
        CLI_STRING('s', "state", "DIR", "state folder of the node (default ./state)", OfflineArgs, state),
        CLI_STRING(0, "name", "NAME", "key name (default: the log's origin, else " DEFAULT_ORIGIN ")", OfflineArgs,
                   name),
        {},
};

const CliCommand cli_audit_key = {
        .name = "xbus audit key",
        .summary = "print the node's checkpoint verifier key (vkey)",
        .description = "Print the node's checkpoint verifier key (a C2SP vkey) from STATE/pki/log.pub, offline.\n"
                       "The key name is the log's origin (the node name): read from the stored checkpoints, or "
                       "--name.\n"
                       "Publish it to auditors; they pass it to the verify commands with --vkey.\n",
        .options = key_options,
        .epilogue = "Example:\n"
                    "  xbus audit key --state /var/lib/xbus > log.vkey\n",
        .run = cmd_key,
};

/* --- verify ------------------------------------------------------------------------ */

static int cmd_verify(const CliCommand *c, int argc, char **argv)
{
        _cleanup_(offline_args_done) OfflineArgs a = { .state = CLI_NODE_DEFAULT_STATE };
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_free_ char *err = NULL, *dir = NULL;
        AuditReport rep;
        double t0;
        int r;

        r = cli_command_parse(c, &argc, &argv, offline_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        r = verifier_for(a.vkey, a.state, NULL, &v, &err);
        if (r != 0)
                return cli_command_failure(c, "%s", err ? err : strerror(r < 0 ? -r : EINVAL));
        r = held_load(&a.held, v, &err);
        if (r < 0)
                return cli_command_failure(c, "%s", err ? err : strerror(-r));
        if (asprintf(&dir, "%s/log", a.state) < 0)
                return cli_command_failure(c, "out of memory");
        t0 = now_seconds();
        r = audit_verify_store(dir,
                               &(AuditStoreOptions){ .verifier = v,
                                                     .held = (const Checkpoint *const *)a.held.cps,
                                                     .n_held = a.held.n },
                               &rep);
        if (r < 0) {
                audit_report_done(&rep);
                return cli_command_failure(c, "cannot read the log \"%s\": %s", dir, strerror(-r));
        }
        return cli_audit_report(dir, r, &rep, now_seconds() - t0);
}

static const CliOption verify_options[] = {
        CLI_STRING('s', "state", "DIR", "state folder of the node (default ./state)", OfflineArgs, state),
        CLI_STRING(0, "vkey", "VKEY", "the checkpoint key (VKEY or @FILE; default STATE/pki/log.pub)", OfflineArgs,
                   vkey),
        { 'c', "checkpoint", "FILE", HELD_HELP },
        {},
};

const CliCommand cli_audit_verify = {
        .name = "xbus audit verify",
        .summary = "verify the whole log store offline (on the node)",
        .description = "Verify the node's exchange log offline (STATE/log, read-only; works while xbusd runs):\n"
                       "every entry's bytes, sequence number and time; the Merkle tree recomputed from the entries\n"
                       "against every stored node; every stored checkpoint's signature and root; and checkpoints\n"
                       "kept from earlier. Reports the first problem and exits 1.\n",
        .options = verify_options,
        .epilogue = "Example:\n"
                    "  xbus audit verify --state /var/lib/xbus --checkpoint cp-monday.txt\n",
        .run = cmd_verify,
};

/* --- verify-export ---------------------------------------------------------------- */

static int cmd_verify_export(const CliCommand *c, int argc, char **argv)
{
        _cleanup_(offline_args_done) OfflineArgs a = {};
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_free_ char *err = NULL;
        AuditReport rep;
        double t0;
        int r;

        r = cli_command_parse(c, &argc, &argv, offline_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (argc != 1)
                return cli_command_usage_error(c, "which FILE (one export)?");
        if (!a.vkey)
                return cli_command_usage_error(c, "--vkey is required (the node's key, see `xbus audit key`)");
        r = audit_verifier_load(a.vkey, &v, &err);
        if (r != 0)
                return cli_command_usage_error(c, "%s", strempty(err));
        r = held_load(&a.held, v, &err);
        if (r < 0)
                return cli_command_failure(c, "%s", err ? err : strerror(-r));
        t0 = now_seconds();
        r = audit_verify_export(argv[0],
                                &(AuditExportOptions){ .verifier = v,
                                                       .earlier = a.earlier,
                                                       .held = (const Checkpoint *const *)a.held.cps,
                                                       .n_held = a.held.n },
                                &rep);
        if (r < 0) {
                int e = cli_command_failure(c, "%s", rep.reason ? rep.reason : strerror(-r));
                audit_report_done(&rep);
                return e;
        }
        return cli_audit_report(argv[0], r, &rep, now_seconds() - t0);
}

static const CliOption verify_export_options[] = {
        CLI_STRING(0, "vkey", "VKEY", VKEY_REQUIRED_HELP, OfflineArgs, vkey),
        CLI_STRING('e', "earlier", "FILE", "an earlier export of the same log", OfflineArgs, earlier),
        { 'c', "checkpoint", "FILE", HELD_HELP },
        {},
};

const CliCommand cli_audit_verify_export = {
        .name = "xbus audit verify-export",
        .summary = "verify an export offline",
        .usage = "[OPTIONS] FILE",
        .description = "Verify an export offline, with only the node's checkpoint key: the checkpoint's signature,\n"
                       "every entry against it, and optionally against an earlier export or earlier checkpoints\n"
                       "(a log changed, cut or rewritten since then no longer reproduces them).\n"
                       "Says OK or exactly what is wrong; exit 1 when anything is.\n",
        .options = verify_export_options,
        .epilogue = "Example:\n"
                    "  xbus audit verify-export --vkey @log.vkey --earlier log-monday.jsonl log-today.jsonl\n",
        .operands = true,
        .run = cmd_verify_export,
};

/* --- verify-proof ------------------------------------------------------------------ */

/* Read a proof bundle (at most AUDIT_BUNDLE_MAX bytes are looked at). */
static int read_bundle(const char *path, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *text = NULL;
        FILE *f;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        text = malloc(AUDIT_BUNDLE_MAX + 1);
        if (!text) {
                fclose(f);
                return -ENOMEM;
        }
        *ret_size = fread(text, 1, AUDIT_BUNDLE_MAX + 1, f);
        fclose(f);
        *ret = TAKE_PTR(text);
        return 0;
}

static int cmd_verify_proof(const CliCommand *c, int argc, char **argv)
{
        _cleanup_(offline_args_done) OfflineArgs a = {};
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_(json_decrefp) json_t *jwk = NULL;
        _cleanup_free_ char *err = NULL, *text = NULL;
        AuditReport rep;
        size_t n = 0;
        int r;

        r = cli_command_parse(c, &argc, &argv, offline_option, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (argc != 1)
                return cli_command_usage_error(c, "which BUNDLE (one file)?");
        if (!a.vkey)
                return cli_command_usage_error(c, "--vkey is required (the node's key, see `xbus audit key`)");
        r = audit_verifier_load(a.vkey, &v, &err);
        if (r != 0)
                return cli_command_usage_error(c, "%s", strempty(err));
        if (a.jwk && cli_receipt_load_jwk(a.jwk, &jwk, &err) != 0)
                return cli_command_usage_error(c, "%s", strempty(err));
        r = read_bundle(argv[0], &text, &n);
        if (r == -ENOMEM)
                return cli_command_failure(c, "out of memory");
        if (r < 0)
                return cli_command_failure(c, "cannot read \"%s\": %s", argv[0], strerror(-r));
        r = audit_verify_bundle(text, n,
                                &(AuditBundleOptions){
                                        .verifier = v, .receipt_jwk = jwk, .require_receipt = a.require_receipt },
                                &rep);
        if (r < 0) {
                audit_report_done(&rep);
                return cli_command_failure(c, "%s", strerror(-r));
        }
        return cli_audit_report(argv[0], r, &rep, 0);
}

static const CliOption verify_proof_options[] = {
        CLI_STRING(0, "vkey", "VKEY", VKEY_REQUIRED_HELP, OfflineArgs, vkey),
        CLI_STRING(0, "jwk", "FILE", "the node's receipt key (signing.jwk); needed when the bundle has a receipt",
                   OfflineArgs, jwk),
        CLI_FLAG(0, "require-receipt", "refuse a bundle without a receipt", OfflineArgs, require_receipt),
        {},
};

const CliCommand cli_audit_verify_proof = {
        .name = "xbus audit verify-proof",
        .summary = "verify a proof bundle (and its receipt) offline",
        .usage = "[OPTIONS] BUNDLE",
        .description = "Verify a proof bundle (from `xbus audit show --bundle`) offline: the checkpoint's "
                       "signature,\n"
                       "the entry's inclusion in the checkpoint's tree, and the receipt it carries: signed by the\n"
                       "node and describing that very entry. Together they prove the exchange to a third party.\n",
        .options = verify_proof_options,
        .epilogue = "Example:\n"
                    "  xbus audit verify-proof --vkey @log.vkey --jwk signing.jwk proof-42.json\n",
        .operands = true,
        .run = cmd_verify_proof,
};
