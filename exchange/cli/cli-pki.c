/* cli-pki.c: `xbus pki`: request, issue, list, revoke, crl, renew (the table of its commands and their handlers) */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli-node.h"
#include "cli/cli-pki.h"
#include "cli/cli-table.h"
#include "crypto/pki-ca.h"
#include "crypto/pki.h"
#include "util/macro.h"

/* keys of the options pki_option() takes (cli-command.h) */
enum {
        OPT_DNS = CLI_OPTION_LONG,
        OPT_IP,
        OPT_DAYS,
        OPT_CRL_DAYS,
};

typedef struct PkiArgs {
        const char *state, *ca, *ca_cert, *ca_key; /* the CA */
        const char *kind, *name, *csr, *out, *key, *reason;
        const char *dns[CLI_PKI_NAMES_MAX + 1], *ips[CLI_PKI_NAMES_MAX + 1];
        size_t n_dns, n_ips;
        uint64_t days, crl_days;
} PkiArgs;

static int pki_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        PkiArgs *a = userdata;

        switch (key) {
        case OPT_DNS:
        case OPT_IP: {
                const char **v = key == OPT_DNS ? a->dns : a->ips;
                size_t *n = key == OPT_DNS ? &a->n_dns : &a->n_ips;

                if (*n >= CLI_PKI_NAMES_MAX)
                        return cli_command_usage_error(c, "at most %d of each of --dns and --ip", CLI_PKI_NAMES_MAX);
                v[(*n)++] = arg;
                break;
        }
        case OPT_DAYS:
        case OPT_CRL_DAYS:
                if (parse_u64(arg, 1, CLI_PKI_DAYS_MAX, key == OPT_DAYS ? &a->days : &a->crl_days) < 0)
                        return cli_command_usage_error(c, "--%sdays must be a number from 1 to %d",
                                                       key == OPT_DAYS ? "" : "crl-", CLI_PKI_DAYS_MAX);
                break;
        }
        return 0;
}

/* Parse, and --kind into *ret_kind (default client). Return: CLI_CONTINUE or the exit status. */
static int pki_parse(const CliCommand *c, int *argc, char ***argv, PkiArgs *a, PkiKind *ret_kind)
{
        int r = cli_command_parse(c, argc, argv, pki_option, a);

        if (r != CLI_CONTINUE)
                return r;
        r = pki_kind_from_string(a->kind ? a->kind : "client");
        if (r < 0)
                return cli_command_usage_error(c, "--kind is client, node or adapter, not \"%s\"", a->kind);
        *ret_kind = (PkiKind)r;
        return CLI_CONTINUE;
}

/* The CA folder: --ca, or STATE/pki (malloc'd). */
static char *ca_dir(const PkiArgs *a)
{
        char *d;

        if (a->ca)
                return strdup(a->ca);
        if (asprintf(&d, "%s/pki", a->state ? a->state : CLI_NODE_DEFAULT_STATE) < 0)
                return NULL;
        return d;
}

static int ca_open(const CliCommand *c, const PkiArgs *a, PkiCa **ret)
{
        _cleanup_free_ char *dir = ca_dir(a), *error = NULL;
        int r;

        if (!dir)
                return cli_command_failure(c, "out of memory");
        if (!a->ca && (a->ca_cert || a->ca_key))
                return cli_command_usage_error(c, "--ca-cert and --ca-key need --ca DIR (where the index and CRL go)");
        r = pki_ca_open(ret, dir, a->ca_cert, a->ca_key, &error);
        if (r < 0)
                return cli_command_failure(c, "%s", error ? error : strerror(-r));
        return 0;
}

static void time_text(int64_t t, char out[32])
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm))
                snprintf(out, 32, "?");
}

static void print_issued(const char *what, const PkiIssued *e, const char *path)
{
        char until[32];

        time_text(e->not_after, until);
        printf("%s %s certificate \"%s\": %s\n  serial %s, valid until %s\n", what, pki_kind_to_string(e->kind),
               e->name, path, e->serial, until);
}

/* What to do with a certificate once issued. */
static void print_next(const PkiIssued *e, const char *crt)
{
        if (e->kind == PKI_KIND_CLIENT)
                printf("The node trusts this CA already: once the registry names the subsystem (tls-cn = %s in\n"
                       "its [subsystem] section, then a reload), it can call with this certificate and its key.\n",
                       e->name);
        else if (e->kind == PKI_KIND_NODE)
                printf("Install it as [tls] certificate (with its key as [tls] key) and reload the node\n"
                       "(systemctl reload xbusd, or kill -HUP the xbusd pid).\n");
        else
                printf("Give it to the adapter with its key (xbus-adapter-rest --cert %s --key ...).\n", crt);
}

/* --- request ------------------------------------------------------------- */

static int cmd_request(const CliCommand *c, int argc, char **argv)
{
        PkiArgs a = { .out = "." };
        _cleanup_free_ char *csr = NULL, *key = NULL, *error = NULL;
        PkiKind kind;
        int r;

        r = pki_parse(c, &argc, &argv, &a, &kind);
        if (r != CLI_CONTINUE)
                return r;
        if (!a.name)
                return cli_command_usage_error(c, "--name is required");
        r = pki_request_new(a.out, a.name, kind, a.key, &csr, &key, &error);
        if (r == -EINVAL)
                return cli_command_usage_error(c, "%s", error ? error : strerror(-r));
        if (r < 0)
                return cli_command_failure(c, "%s", error ? error : strerror(-r));
        printf("%s  the request: send it to the CA (xbus pki issue --kind %s --csr %s)\n", csr,
               pki_kind_to_string(kind), csr);
        printf("%s  the private key%s: it never leaves this machine\n", key, a.key ? "" : " (new, mode 0600)");
        return EXIT_SUCCESS;
}

/* --- issue --------------------------------------------------------------- */

/* FILE.csr -> FILE.crt (malloc'd) */
static char *crt_beside(const char *csr)
{
        size_t n = strlen(csr);
        char *p;

        if (asprintf(&p, "%.*s.crt", (int)(n > 4 && streq(csr + n - 4, ".csr") ? n - 4 : n), csr) < 0)
                return NULL;
        return p;
}

static int cmd_issue(const CliCommand *c, int argc, char **argv)
{
        PkiArgs a = {};
        _cleanup_(pki_ca_freep) PkiCa *ca = NULL;
        _cleanup_free_ char *out = NULL, *error = NULL, *dir = NULL;
        PkiIssued e;
        PkiKind kind;
        int r;

        r = pki_parse(c, &argc, &argv, &a, &kind);
        if (r != CLI_CONTINUE)
                return r;
        if (!a.csr && !a.name)
                return cli_command_usage_error(c, "--csr FILE (a request) or --name NAME (a new key too) is required");
        if (!a.csr && !a.out && kind != PKI_KIND_CLIENT)
                return cli_command_usage_error(c, "--out DIR is required for a new %s key and certificate",
                                               pki_kind_to_string(kind));
        r = ca_open(c, &a, &ca);
        if (r != 0)
                return r;
        {
                const PkiIssue what = { .kind = kind,
                                        .name = a.name,
                                        .dns = a.n_dns ? a.dns : NULL,
                                        .addrs = a.n_ips ? a.ips : NULL,
                                        .days = (unsigned)a.days };
                if (a.csr) {
                        out = a.out ? strdup(a.out) : crt_beside(a.csr);
                        if (!out)
                                return cli_command_failure(c, "out of memory");
                        r = pki_ca_issue(ca, &what, a.csr, out, &e, &error);
                } else {
                        _cleanup_free_ char *ca_path = ca_dir(&a);
                        char base[80];

                        /* the demo layout by default: STATE/pki/clients, where `xbus call` looks */
                        if (!ca_path || asprintf(&dir, "%s/clients", ca_path) < 0)
                                return cli_command_failure(c, "out of memory");
                        pki_client_name(a.name, base, sizeof(base));
                        if (asprintf(&out, "%s/%s.crt", a.out ? a.out : dir, base) < 0)
                                return cli_command_failure(c, "out of memory");
                        r = pki_ca_issue_new_key(ca, &what, a.out ? a.out : dir, &e, &error);
                }
        }
        if (r == -EINVAL)
                return cli_command_usage_error(c, "%s", error ? error : strerror(-r));
        if (r < 0)
                return cli_command_failure(c, "%s", error ? error : strerror(-r));
        print_issued("issued", &e, out);
        if (!a.csr)
                printf("  its key (mode 0600) is beside it, as .key\n");
        print_next(&e, out);
        return EXIT_SUCCESS;
}

/* --- list ---------------------------------------------------------------- */

static int cmd_list(const CliCommand *c, int argc, char **argv)
{
        PkiArgs a = {};
        _cleanup_(pki_ca_freep) PkiCa *ca = NULL;
        _cleanup_free_ PkiIssued *v = NULL;
        _cleanup_free_ char *error = NULL;
        int64_t now = (int64_t)time(NULL);
        PkiCaInfo info;
        size_t n = 0;
        char t[32];
        PkiKind kind;
        int r;

        r = pki_parse(c, &argc, &argv, &a, &kind);
        if (r != CLI_CONTINUE)
                return r;
        r = ca_open(c, &a, &ca);
        if (r != 0)
                return r;
        r = pki_ca_describe(ca, &info, &error);
        if (r == 0)
                r = pki_ca_list(ca, &v, &n, &error);
        if (r < 0)
                return cli_command_failure(c, "%s", error ? error : strerror(-r));
        time_text(info.not_after, t);
        printf("CA \"%s\", valid until %s\n", info.subject, t);
        if (info.crl_next) {
                time_text(info.crl_next, t);
                printf("CRL: %zu revoked, next update due %s%s\n", info.crl_entries, t,
                       info.crl_next - now < CLI_PKI_RENEW_DAYS * 86400 ? " (soon: xbus pki crl)" : "");
        } else
                printf("CRL: none yet (xbus pki revoke makes one)\n");
        printf("\n%-7s %-32s %-7s %-22s %s\n", "STATUS", "SERIAL", "KIND", "VALID UNTIL", "NAME");
        for (size_t i = 0; i < n; i++) {
                const char *status = v[i].revoked                                        ? "revoked"
                                     : v[i].not_after <= now                             ? "expired"
                                     : v[i].not_after - now < CLI_PKI_RENEW_DAYS * 86400 ? "renew"
                                                                                         : "valid";
                _cleanup_free_ char *name = cli_sanitize(v[i].name, 64);

                time_text(v[i].not_after, t);
                printf("%-7s %-32.32s %-7s %-22s %s\n", status, v[i].serial, pki_kind_to_string(v[i].kind), t,
                       name ? name : "?");
        }
        if (n == 0)
                printf("(nothing issued yet)\n");
        return EXIT_SUCCESS;
}

/* --- revoke, crl --------------------------------------------------------- */

static void print_crl_next(PkiCa *ca, const PkiArgs *a)
{
        _cleanup_free_ char *dir = ca_dir(a);
        PkiCaInfo info;
        char t[32] = "?";

        if (pki_ca_describe(ca, &info, NULL) == 0)
                time_text(info.crl_next, t);
        printf("CRL written: %s/ca.crl (%zu revoked, next update due %s).\n", strempty(dir), info.crl_entries, t);
        if (a->ca)
                printf("The node checks it once it is its [tls] client-crl and has been reloaded\n"
                       "(systemctl reload xbusd, or kill -HUP the xbusd pid); sign it again before it is due.\n");
        else
                printf("The node of this state folder checks it from its next reload: kill -HUP $(cat %s/xbusd.pid)\n"
                       "(or systemctl reload xbusd); sign it again before it is due (xbus pki crl).\n",
                       a->state ? a->state : CLI_NODE_DEFAULT_STATE);
}

static int cmd_revoke(const CliCommand *c, int argc, char **argv)
{
        PkiArgs a = { .reason = "unspecified" };
        _cleanup_(pki_ca_freep) PkiCa *ca = NULL;
        _cleanup_free_ char *error = NULL;
        size_t count = 0;
        PkiKind kind;
        int r, reason;

        r = pki_parse(c, &argc, &argv, &a, &kind);
        if (r != CLI_CONTINUE)
                return r;
        if (argc != 1)
                return cli_command_usage_error(c, "which certificate? (a NAME or a SERIAL, as xbus pki list shows)");
        reason = pki_reason_from_string(a.reason);
        if (reason < 0)
                return cli_command_usage_error(c, "--reason is unspecified, keyCompromise, affiliationChanged, "
                                                  "superseded or cessationOfOperation");
        r = ca_open(c, &a, &ca);
        if (r != 0)
                return r;
        r = pki_ca_revoke(ca, argv[0], (PkiReason)reason, (unsigned)a.crl_days, &count, &error);
        if (r < 0)
                return cli_command_failure(c, "%s", error ? error : strerror(-r));
        printf("revoked %zu certificate%s of \"%s\" (%s)\n", count, count == 1 ? "" : "s", argv[0], a.reason);
        print_crl_next(ca, &a);
        return EXIT_SUCCESS;
}

static int cmd_crl(const CliCommand *c, int argc, char **argv)
{
        PkiArgs a = {};
        _cleanup_(pki_ca_freep) PkiCa *ca = NULL;
        _cleanup_free_ char *error = NULL;
        PkiKind kind;
        int r;

        r = pki_parse(c, &argc, &argv, &a, &kind);
        if (r != CLI_CONTINUE)
                return r;
        r = ca_open(c, &a, &ca);
        if (r != 0)
                return r;
        r = pki_ca_crl(ca, (unsigned)a.crl_days, &error);
        if (r < 0)
                return cli_command_failure(c, "%s", error ? error : strerror(-r));
        print_crl_next(ca, &a);
        return EXIT_SUCCESS;
}

/* --- renew --------------------------------------------------------------- */

static int cmd_renew(const CliCommand *c, int argc, char **argv)
{
        PkiArgs a = {};
        _cleanup_(pki_ca_freep) PkiCa *ca = NULL;
        _cleanup_free_ char *error = NULL;
        PkiIssued e;
        PkiKind kind;
        int r;

        r = pki_parse(c, &argc, &argv, &a, &kind);
        if (r != CLI_CONTINUE)
                return r;
        if (argc != 1)
                return cli_command_usage_error(c, "which CERTIFICATE file?");
        r = ca_open(c, &a, &ca);
        if (r != 0)
                return r;
        r = pki_ca_renew(ca, argv[0], a.out, (unsigned)a.days, &e, &error);
        if (r < 0)
                return cli_command_failure(c, "%s", error ? error : strerror(-r));
        print_issued("renewed", &e, a.out ? a.out : argv[0]);
        printf("  same key and subject; the previous certificate stays valid until it expires.\n");
        if (e.kind == PKI_KIND_NODE)
                printf("Reload the node to use it (systemctl reload xbusd, or kill -HUP the xbusd pid).\n");
        return EXIT_SUCCESS;
}

/* --- the table ----------------------------------------------------------- */

static const CliOption ca_options[] = {
        CLI_STRING('s', "state", "DIR", "the demo CA of this state folder: STATE/pki (default ./state)", PkiArgs,
                   state),
        CLI_STRING(0, "ca", "DIR", "another CA folder (its index and CRL; ca.crt and ca.key unless named)", PkiArgs,
                   ca),
        CLI_STRING(0, "ca-cert", "FILE", "the CA certificate (PEM), e.g. an organisation's", PkiArgs, ca_cert),
        CLI_STRING(0, "ca-key", "FILE", "its private key (unencrypted PEM, mode 0600)", PkiArgs, ca_key),
        {},
};

#define KIND_OPTION CLI_STRING('k', "kind", "KIND", "client (default), node or adapter", PkiArgs, kind)
#define DAYS_HELP "validity in days (default 825, at most " STRINGIFY(CLI_PKI_DAYS_MAX) ")"
#define CRL_DAYS_OPTION                                                                                       \
        {                                                                                                     \
                OPT_CRL_DAYS, "crl-days", "N",                                                                \
                        "the CRL's validity: its next update in N days (default " STRINGIFY(PKI_CRL_DAYS) ")" \
        }

static const CliOption request_options[] = {
        CLI_STRING('n', "name", "NAME", "the subsystem id (client), host name (node) or adapter name", PkiArgs, name),
        KIND_OPTION,
        CLI_STRING('o', "out", "DIR", "write NAME.key and NAME.csr here ('/' as '_'; default .)", PkiArgs, out),
        CLI_STRING(0, "key", "FILE", "an existing key to ask for (a renewal with the same key)", PkiArgs, key),
        {},
};

static const CliCommand request_command = {
        .name = "xbus pki request",
        .summary = "make a key and a certificate request (the client's side)",
        .usage = "--name NAME [--kind KIND] [--out DIR] [--key FILE]",
        .description = "Make a private key (EC P-256, mode 0600) and a certificate request (CSR) for a subsystem,\n"
                       "a node or an adapter, on the machine that will use the key. Send the .csr to the CA.\n",
        .options = request_options,
        .epilogue = "Example:\n"
                    "  xbus pki request --name VN/GOV/BGTVT/vehicle-portal --out /etc/vehicle-portal/tls\n",
        .run = cmd_request,
};

static const CliOption issue_options[] = {
        KIND_OPTION,
        CLI_STRING(0, "csr", "FILE", "issue for this request (its key; its name unless --name)", PkiArgs, csr),
        CLI_STRING('n', "name", "NAME", "the certificate's name; without --csr a new key is made too", PkiArgs, name),
        { OPT_DNS, "dns", "NAME", "a DNS name (node, adapter; repeatable)" },
        { OPT_IP, "ip", "ADDRESS", "an IP address (node, adapter; repeatable)" },
        { OPT_DAYS, "days", "N", DAYS_HELP },
        CLI_STRING('o', "out", "PATH",
                   "with --csr: the certificate file (default FILE.crt beside the request);\n"
                   "without: the folder for NAME.key and NAME.crt (default STATE/pki/clients for a client)",
                   PkiArgs, out),
        {},
};

static const CliCommand issue_command = {
        .name = "xbus pki issue",
        .summary = "issue a certificate from the CA (for a request, or with a new key)",
        .usage = "[CA OPTIONS] [--kind KIND] (--csr FILE | --name NAME) [OPTIONS]",
        .description = "Issue a certificate from the CA and record it in the CA's index (issued.txt). A client's\n"
                       "name is its subsystem id (the registry's tls-cn); a node's is its host name, with\n"
                       "--dns/--ip for its other names (default: the name; localhost gets the loopback addresses).\n"
                       "Nothing is ever replaced.\n",
        .common_options = ca_options,
        .options = issue_options,
        .epilogue = "Examples:\n"
                    "  xbus pki issue --csr vehicle-portal.csr           # the demo CA of ./state\n"
                    "  xbus pki issue --name VN/GOV/BGTVT/vehicle-portal  # key and certificate in state/pki/clients\n"
                    "  xbus pki issue --ca /srv/ca --ca-cert /srv/ca/org-ca.crt --ca-key /srv/ca/org-ca.key \\\n"
                    "       --kind node --csr xbus1.csr --dns xbus1.example.gov.vn\n",
        .run = cmd_issue,
};

static const CliCommand list_command = {
        .name = "xbus pki list",
        .summary = "list what the CA issued, with status and expiry",
        .description = "The CA, its CRL, and every certificate in its index: valid, renew (expires within " STRINGIFY(
                CLI_PKI_RENEW_DAYS) " days),\n"
                                    "expired or revoked.\n",
        .common_options = ca_options,
        .run = cmd_list,
};

static const CliOption revoke_options[] = {
        CLI_STRING('r', "reason", "REASON",
                   "unspecified (default), keyCompromise, affiliationChanged, superseded,\ncessationOfOperation",
                   PkiArgs, reason),
        CRL_DAYS_OPTION,
        {},
};

static const CliCommand revoke_command = {
        .name = "xbus pki revoke",
        .summary = "revoke certificates and write the CRL the node checks",
        .usage = "[CA OPTIONS] [--reason REASON] NAME|SERIAL",
        .description = "Revoke every valid certificate of NAME (or the one with SERIAL) in the CA's index and write\n"
                       "the CRL (CA/ca.crl). The node refuses the certificates once it has reloaded (SIGHUP).\n",
        .common_options = ca_options,
        .options = revoke_options,
        .epilogue = "Example:\n"
                    "  xbus pki revoke --reason keyCompromise VN/GOV/BGTVT/vehicle-portal && kill -HUP $(cat "
                    "state/xbusd.pid)\n",
        .operands = true,
        .run = cmd_revoke,
};

static const CliOption crl_options[] = {
        CRL_DAYS_OPTION,
        {},
};

static const CliCommand crl_command = {
        .name = "xbus pki crl",
        .summary = "sign the CRL again (before its next update is due)",
        .description = "Sign the CRL again with a new next update. A node refuses every client of a CA whose CRL\n"
                       "is past its next update: run this regularly (a timer) and reload the node.\n",
        .common_options = ca_options,
        .options = crl_options,
        .run = cmd_crl,
};

static const CliOption renew_options[] = {
        { OPT_DAYS, "days", "N", DAYS_HELP },
        CLI_STRING('o', "out", "FILE", "write the new certificate here (default: in place of CERTIFICATE)", PkiArgs,
                   out),
        {},
};

static const CliCommand renew_command = {
        .name = "xbus pki renew",
        .summary = "renew a certificate the CA issued (same key and names, new validity)",
        .usage = "[CA OPTIONS] [--days N] [--out FILE] CERTIFICATE",
        .description = "Issue a new certificate for the key, subject and names of CERTIFICATE, which this CA must\n"
                       "have issued, and record it. To change the key as well, make a new request (xbus pki\n"
                       "request), issue it, and revoke the old certificate once it is out of use.\n",
        .common_options = ca_options,
        .options = renew_options,
        .epilogue = "Examples:\n"
                    "  xbus pki renew state/pki/node.crt && kill -HUP $(cat state/xbusd.pid)\n"
                    "  xbus pki renew state/pki/clients/VN_GOV_BGTVT_vehicle-portal.crt --days 365\n",
        .operands = true,
        .run = cmd_renew,
};

/* in the order of `xbus pki --help` */
static const CliCommand *const pki_commands[] = {
        &request_command, &issue_command, &list_command, &revoke_command, &crl_command, &renew_command,
};

static void pki_help(void)
{
        printf("Usage: xbus pki COMMAND [OPTIONS]\n\n"
               "Certificates as a workflow: keys and requests, issuing from a CA (the demo CA of the state\n"
               "folder, or an organisation's named by path), its index, revocation and the CRL the node\n"
               "checks, renewal (docs/operations.md, \"Certificates\").\n\nCommands:\n");
        cli_command_list(pki_commands, ELEMENTSOF(pki_commands));
        printf("\nCA options (issue, list, revoke, crl, renew):\n"
               "  -s, --state DIR     the demo CA: DIR/pki (default ./state)\n"
               "      --ca DIR        another CA folder\n"
               "      --ca-cert FILE  its certificate, when not DIR/ca.crt\n"
               "      --ca-key FILE   its key, when not DIR/ca.key\n"
               "\n`xbus pki COMMAND --help` describes each. Exit status: 0 done, 1 failure, 2 usage error.\n");
}

static int pki_run(const CliCommand *c, int argc, char **argv)
{
        const CliCommand *sub;

        if (argc < 2)
                return cli_command_usage_error(c, "which command?");
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                pki_help();
                return EXIT_SUCCESS;
        }
        sub = cli_command_find(pki_commands, ELEMENTSOF(pki_commands), argv[1]);
        if (!sub)
                return cli_command_usage_error(c, "no command \"%s\"", argv[1]);
        return cli_command_run(sub, argc - 1, argv + 1);
}

const CliCommand cli_pki_command = {
        .name = "xbus pki",
        .summary = "keys, certificate requests, issuing, revocation and the CRL, renewal",
        .run = pki_run,
        .help = pki_help,
};
