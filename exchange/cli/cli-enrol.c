/* cli-enrol.c: `xbus node keygen`: a new node's keys and the [node] section the registry authority adds */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli/cli-enrol.h"
#include "crypto/hash.h"
#include "crypto/pki.h"
#include "log/checkpoint.h"
#include "util/macro.h"

typedef struct EnrolArgs {
        const char *state, *id, *member, *address, *name, *subsystems;
} EnrolArgs;

/* "sha256:<hex>" of the certificate in `path` (PEM) into `out` (72 bytes). Return: 0 or -errno. */
static int cert_fingerprint(const char *path, char out[72])
{
        FILE *f = fopen(path, "re");
        uint8_t md[32];
        unsigned len = sizeof(md);
        X509 *x;

        if (!f)
                return -errno;
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
        if (!x)
                return -EINVAL;
        if (X509_digest(x, EVP_sha256(), md, &len) != 1 || len != sizeof(md)) {
                X509_free(x);
                return -EINVAL;
        }
        X509_free(x);
        memcpy(out, "sha256:", 7);
        hex_encode(md, sizeof(md), out + 7);
        return 0;
}

/* The public receipt key as the registry takes it: {"kty","crv","x","y"} of signing.jwk. */
static char *receipt_key(const char *path)
{
        json_t *jwk = json_load_file(path, JSON_REJECT_DUPLICATES, NULL), *pub;
        char *text = NULL;

        pub = jwk ? json_pack("{s:O?,s:O?,s:O?,s:O?}", "kty", json_object_get(jwk, "kty"), "crv",
                              json_object_get(jwk, "crv"), "x", json_object_get(jwk, "x"), "y",
                              json_object_get(jwk, "y"))
                  : NULL;
        if (pub)
                text = json_dumps(pub, JSON_COMPACT);
        json_decref(pub);
        json_decref(jwk);
        return text;
}

static int cmd_node(const CliCommand *c, int argc, char **argv)
{
        EnrolArgs a = {};
        _cleanup_(checkpoint_verifier_freep) CheckpointVerifier *v = NULL;
        _cleanup_free_ char *pki = NULL, *crt = NULL, *jwk = NULL, *logpub = NULL, *key = NULL, *vkey = NULL,
                            *error = NULL;
        char fp[72];
        int r;

        r = cli_command_parse(c, &argc, &argv, NULL, &a);
        if (r != CLI_CONTINUE)
                return r;
        if (argc != 1 || !streq(argv[0], "keygen"))
                return cli_command_usage_error(c, "the subcommand is keygen");
        if (!a.state || !a.id || !a.member || !a.address || !a.subsystems)
                return cli_command_usage_error(c, "--state, --id, --member, --address and --subsystems are required");
        if (asprintf(&pki, "%s/pki", a.state) < 0 || asprintf(&crt, "%s/node.crt", pki) < 0 ||
            asprintf(&jwk, "%s/signing.jwk", pki) < 0 || asprintf(&logpub, "%s/log.pub", pki) < 0)
                return cli_command_failure(c, "out of memory");
        /* the node's own keys, as xbusd makes them at its first start (never replaced) */
        if (mkdir(a.state, 0700) < 0 && errno != EEXIST)
                return cli_command_failure(c, "cannot make the folder \"%s\": %m", a.state);
        r = pki_demo_ensure(pki, NULL, 0, NULL, 0, &error);
        if (r < 0)
                return cli_command_failure(c, "cannot make the keys in \"%s\": %s", pki, error ? error : strerror(-r));
        r = cert_fingerprint(crt, fp);
        key = receipt_key(jwk);
        if (r < 0 || !key)
                return cli_command_failure(c, "cannot read \"%s\" or \"%s\"", crt, jwk);
        r = checkpoint_verifier_load(&v, a.name ? a.name : a.id, logpub);
        if (r == 0)
                r = checkpoint_verifier_vkey(v, &vkey);
        if (r != 0)
                return cli_command_failure(c, "cannot read the checkpoint key \"%s\"", logpub);
        printf("# The node's keys are in %s (keep node.key, signing.key and log.key there).\n"
               "# Give this section to the registry authority; it adds it and publishes a snapshot.\n"
               "# Set [node] name = %s in xbusd.conf (the log's origin, which checkpoint-key names).\n"
               "[node %s]\nmember = %s\naddress = %s\ntls-fingerprint = %s\nreceipt-key = %s\n"
               "checkpoint-key = %s\nsubsystems = %s\n",
               pki, a.name ? a.name : a.id, a.id, a.member, a.address, fp, key, vkey, a.subsystems);
        return EXIT_SUCCESS;
}

static const CliOption node_options[] = {
        CLI_STRING('s', "state", "DIR", "the node's state folder (its keys go to DIR/pki)", EnrolArgs, state),
        CLI_STRING(0, "id", "ID", "the node's id in the registry ([node ID])", EnrolArgs, id),
        CLI_STRING(0, "member", "MEMBER", "the member that runs it (INSTANCE/CLASS/CODE)", EnrolArgs, member),
        CLI_STRING(0, "address", "URL", "its front door, https://HOST[:PORT]", EnrolArgs, address),
        CLI_STRING(0, "subsystems", "LIST", "the subsystems it hosts, comma-separated", EnrolArgs, subsystems),
        CLI_STRING(0, "name", "NAME", "its [node] name, the log's origin (default: ID)", EnrolArgs, name),
        {},
};

const CliCommand cli_node_command = {
        .name = "xbus node",
        .summary = "make a new node's keys and its [node] section (enrolment)",
        .usage = "keygen --state DIR --id ID --member MEMBER --address URL --subsystems LIST [--name NAME]",
        .description = "Make what a node of a federation needs, under DIR/pki, as xbusd makes them at its first\n"
                       "start (existing files are kept): its TLS certificate and key, its receipt key, its log's\n"
                       "checkpoint key. Print the [node] section that names them (docs/federation.md \"Joining\n"
                       "a node\"): the registry authority adds it to the registry and publishes a snapshot; every\n"
                       "node takes it within one fetch interval.\n",
        .options = node_options,
        .epilogue = "Example:\n"
                    "  xbus node keygen --state /var/lib/xbus --id hcm --member VN/GOV/HCM \\\n"
                    "      --address https://xbus.hcm.gov.vn:8443 --subsystems VN/GOV/HCM/one-stop-shop\n",
        .operands = true,
        .run = cmd_node,
};
