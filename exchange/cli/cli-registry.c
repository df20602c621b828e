/* cli-registry.c: `xbus registry publish` and `xbus registry verify`: signed registry snapshots */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-registry.h"
#include "cli/cli-table.h"
#include "crypto/hash.h"
#include "registry-snapshot.h"
#include "util/fileio.h"
#include "util/ini.h"
#include "util/parse.h"
#include "util/strv.h"
#include "util/time-util.h"

enum {
        OPT_VERSION = CLI_OPTION_LONG,
        OPT_PREVIOUS,
        OPT_EXPIRES,
        OPT_CREATED,
        OPT_RETIRE,
};

/* --- publish ------------------------------------------------------------- */

typedef struct PublishArgs {
        const char *registry, *key, *out, *previous;
        uint64_t version, created_usec, lifetime_usec;
        char **retired;
        bool oom;
} PublishArgs;

/* --retire: a kid, or a key file whose kid it is (anchor files are what operators hold). */
static int retire_add(PublishArgs *a, const char *arg)
{
        _cleanup_(registry_anchors_freep) RegistryAnchors *one = NULL;
        const char *kid = arg;

        if (access(arg, F_OK) == 0) {
                if (registry_anchors_new(&one) < 0 || registry_anchors_add_file(one, arg, NULL) < 0)
                        return -EINVAL;
                kid = registry_anchors_kid(one, 0);
        }
        if (strv_extend(&a->retired, kid) < 0)
                a->oom = true;
        return 0;
}

static int publish_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        PublishArgs *a = userdata;
        uint64_t ms;

        switch (key) {
        case OPT_VERSION:
                if (parse_u64(arg, 1, REGISTRY_SNAPSHOT_VERSION_MAX, &a->version) < 0)
                        return cli_command_usage_error(c, "--version wants a number from 1 to 2^53-1");
                break;
        case OPT_EXPIRES:
                if (ini_parse_duration(arg, &ms) < 0 || ms < 1000)
                        return cli_command_usage_error(c, "--expires wants a duration such as 12h or 7d");
                a->lifetime_usec = ms * USEC_PER_MSEC;
                break;
        case OPT_CREATED:
                if (parse_rfc3339(arg, &a->created_usec) < 0)
                        return cli_command_usage_error(c, "--created wants a time such as 2026-12-01T08:00:00Z");
                break;
        case OPT_RETIRE:
                if (retire_add(a, arg) < 0)
                        return cli_command_usage_error(c, "--retire wants a key id or an anchor file, not \"%s\"", arg);
                break;
        }
        return 0;
}

/* The payload of a snapshot of one's own, unverified: the version and retirements to carry on. */
static int previous_read(const char *path, RegistrySnapshot **ret, char **ret_why)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ uint8_t *payload = NULL;
        const char *dot1, *dot2;
        size_t size = 0;
        long n;
        int r;

        r = read_full_file(path, REGISTRY_SNAPSHOT_MAX, &text, &size);
        if (r < 0)
                return error_set(ret_why, r, "cannot read \"%s\": %s", path, strerror(-r));
        while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == '\r'))
                text[--size] = 0;
        dot1 = strchr(text, '.');
        dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        payload = dot2 ? malloc((size_t)(dot2 - dot1) / 4 * 3 + 3) : NULL;
        n = payload ? b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload) : -1;
        r = n < 0 ? REGISTRY_SNAPSHOT_E_MALFORMED : registry_snapshot_parse(ret, payload, (size_t)n);
        if (r != 0)
                return error_set(ret_why, r < 0 ? r : -EINVAL, "\"%s\": %s", path, registry_snapshot_strerror(r));
        return 0;
}

/* Write `size` bytes to `path` through a temporary file and a rename: a web server never serves half a snapshot. */
static int write_atomic(const char *path, const char *data, size_t size)
{
        _cleanup_free_ char *tmp = NULL;
        FILE *f;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
                return -ENOMEM;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        if (fwrite(data, 1, size, f) != size || fputc('\n', f) == EOF || fflush(f) != 0 || fsync(fileno(f)) < 0) {
                int r = -errno;
                fclose(f);
                unlink(tmp);
                return r ? r : -EIO;
        }
        if (fclose(f) != 0 || rename(tmp, path) < 0) {
                int r = -errno;
                unlink(tmp);
                return r;
        }
        return 0;
}

static int cmd_publish(const CliCommand *c, int argc, char **argv)
{
        PublishArgs a = {};
        _cleanup_(registry_snapshot_freep) RegistrySnapshot *prev = NULL;
        _cleanup_(signer_freep) Signer *signer = NULL;
        _cleanup_free_ char *compact = NULL, *errors = NULL, *why = NULL;
        char created[RFC3339_MAX];
        size_t size = 0;
        int r;

        r = cli_command_parse(c, &argc, &argv, publish_option, &a);
        if (r != CLI_CONTINUE)
                goto finish;
        r = EXIT_FAILURE;
        if (a.oom)
                goto finish;
        if (!a.registry || !a.key || !a.out) {
                r = cli_command_usage_error(c, "--registry, --key and --out are required");
                goto finish;
        }
        if (a.previous && previous_read(a.previous, &prev, &why) < 0) {
                r = cli_command_failure(c, "--previous: %s", strempty(why));
                goto finish;
        }
        r = signer_load(&signer, a.key);
        if (r < 0) {
                r = cli_command_failure(c, "cannot load the authority's key \"%s\": %s", a.key,
                                        r == -EPERM    ? "group or others may read it (chmod 600)"
                                        : r == -EINVAL ? "not an EC P-256 private key"
                                                       : strerror(-r));
                goto finish;
        }
        for (char **k = prev ? prev->retired : NULL; k && *k; k++)
                if (!strv_contains(a.retired, *k) && strv_extend(&a.retired, *k) < 0)
                        goto finish;
        if (!a.created_usec)
                a.created_usec = now_usec(CLOCK_REALTIME);
        if (!a.lifetime_usec)
                a.lifetime_usec = 7 * 24 * 3600 * USEC_PER_SEC;
        if (!a.version)
                a.version = prev ? prev->version + 1 : a.created_usec / USEC_PER_SEC;
        r = registry_snapshot_build(a.registry, signer,
                                    &(RegistrySnapshotParams){ .version = a.version,
                                                               .created_usec = a.created_usec,
                                                               .lifetime_usec = a.lifetime_usec,
                                                               .retired = a.retired },
                                    &compact, &size, &errors);
        if (r == -EINVAL) {
                r = cli_command_failure(c, "a --retire key id is malformed, or is the signing key's own (%s)",
                                        signer_kid(signer));
                goto finish;
        }
        if (r != 0) {
                fprintf(stderr, "%s", strempty(errors));
                r = cli_command_failure(c, "registry \"%s\": %s", a.registry,
                                        r > 0 ? registry_snapshot_strerror(r) : strerror(-r));
                goto finish;
        }
        r = write_atomic(a.out, compact, size);
        if (r < 0) {
                r = cli_command_failure(c, "cannot write \"%s\": %s", a.out, strerror(-r));
                goto finish;
        }
        printf("%s: registry snapshot version %" PRIu64 ", created %s, valid %" PRIu64 " s, signed by key %s (%zu "
               "bytes)\n",
               a.out, a.version, format_rfc3339(a.created_usec / USEC_PER_SEC * USEC_PER_SEC, created),
               (uint64_t)(a.lifetime_usec / USEC_PER_SEC), signer_kid(signer), size);
        r = EXIT_SUCCESS;
finish:
        strv_free(a.retired);
        return r;
}

static const CliOption publish_options[] = {
        CLI_STRING('r', "registry", "DIR", "the registry folder (its schema folder comes too)", PublishArgs, registry),
        CLI_STRING('k', "key", "FILE", "the authority's signing key (PEM, EC P-256, mode 0600)", PublishArgs, key),
        CLI_STRING('o', "out", "FILE", "where to write the snapshot (replaced whole, through a rename)", PublishArgs,
                   out),
        CLI_STRING('p', "previous", "FILE",
                   "the snapshot published before: the version goes up by one and its\nretired keys stay retired",
                   PublishArgs, previous),
        { OPT_VERSION, "version", "N", "the version (default: one more than --previous, else the time in seconds)" },
        { OPT_EXPIRES, "expires", "DURATION",
          "how long the snapshot is valid (default " CLI_REGISTRY_DEFAULT_LIFETIME ")" },
        { OPT_CREATED, "created", "TIME", "its creation time, RFC 3339 (default now)" },
        { OPT_RETIRE, "retire", "KID|FILE",
          "an anchor no longer signed with (its key id, or its key file); repeatable" },
        {},
};

static const CliCommand publish_command = {
        .name = "xbus registry publish",
        .summary = "compile a registry folder into a signed snapshot",
        .usage = "--registry DIR --key FILE --out FILE [OPTIONS]",
        .description = "Check the registry folder as a node would, gather its files and its schema folder's (JSON\n"
                       "Schemas, XSDs, OpenAPI documents; dot files and examples/ folders are left out) and sign\n"
                       "them with the registry authority's key into one snapshot (docs/registry.md \"Snapshots\").\n"
                       "Nodes fetch it ([snapshot] in xbusd.conf) and verify it against their anchors.\n",
        .options = publish_options,
        .epilogue = "Example:\n"
                    "  xbus registry publish --registry /etc/xbus/registry --key authority.key \\\n"
                    "      --previous /srv/www/snapshot.jws --out /srv/www/snapshot.jws\n",
        .run = cmd_publish,
};

/* --- verify -------------------------------------------------------------- */

typedef struct VerifyArgs {
        char **anchors;
        bool oom;
} VerifyArgs;

static int verify_option(const CliCommand *c, int key, const char *arg, void *userdata)
{
        VerifyArgs *a = userdata;

        if (strv_extend(&a->anchors, arg) < 0)
                a->oom = true;
        return 0;
}

static void describe(const RegistrySnapshot *s, uint64_t now)
{
        char created[RFC3339_MAX], expires[RFC3339_MAX];

        printf("instance %s, version %" PRIu64 ", created %s, expires %s%s\nsigned by key %s\nsha256 %s\n", s->instance,
               s->version, format_rfc3339(s->created_usec, created), format_rfc3339(s->expires_usec, expires),
               s->expires_usec <= now ? " (expired)" : "", s->kid, s->digest);
        for (char **k = s->retired; k && *k; k++)
                printf("retired key %s\n", *k);
}

static int cmd_verify(const CliCommand *c, int argc, char **argv)
{
        VerifyArgs a = {};
        _cleanup_(registry_anchors_freep) RegistryAnchors *anchors = NULL;
        _cleanup_(registry_snapshot_freep) RegistrySnapshot *s = NULL;
        _cleanup_(registry_unrefp) Registry *reg = NULL;
        _cleanup_free_ char *text = NULL, *why = NULL, *errors = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME);
        size_t size = 0, n_files;
        int r;

        r = cli_command_parse(c, &argc, &argv, verify_option, &a);
        if (r != CLI_CONTINUE)
                goto finish;
        r = EXIT_FAILURE;
        if (a.oom || registry_anchors_new(&anchors) < 0)
                goto finish;
        if (argc != 1 || !a.anchors) {
                r = cli_command_usage_error(c, "one SNAPSHOT file, and at least one --anchor");
                goto finish;
        }
        for (char **p = a.anchors; *p; p++)
                if (registry_anchors_add_file(anchors, *p, &why) < 0) {
                        r = cli_command_failure(c, "%s", why ? why : "out of memory");
                        goto finish;
                }
        r = read_full_file(argv[0], REGISTRY_SNAPSHOT_MAX + 2, &text, &size);
        if (r < 0) {
                r = cli_command_failure(c, "cannot read \"%s\": %s", argv[0], strerror(-r));
                goto finish;
        }
        while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == '\r'))
                text[--size] = 0;
        r = registry_snapshot_open(&s, anchors, text, size, argv[0]);
        if (r != 0) {
                r = cli_command_failure(c, "\"%s\" refused: %s", argv[0], registry_snapshot_strerror(r));
                goto finish;
        }
        n_files = s->n_files;
        describe(s, now);
        r = registry_snapshot_accept(NULL, s, now);
        if (r == 0 || r == REGISTRY_SNAPSHOT_E_EXPIRED)
                r = registry_snapshot_load(&reg, &s, NULL, &errors);
        if (r != 0) {
                fprintf(stderr, "%s", strempty(errors));
                r = cli_command_failure(c, "\"%s\" refused: %s", argv[0], registry_snapshot_strerror(r));
                goto finish;
        }
        printf("%zu files; the registry loads\n", n_files);
        r = registry_snapshot(reg)->expires_usec <= now
                    ? cli_command_failure(c, "\"%s\" has expired: nodes refuse it", argv[0])
                    : EXIT_SUCCESS;
finish:
        strv_free(a.anchors);
        return r;
}

static const CliOption verify_options[] = {
        { 'a', "anchor", "FILE", "an authority key to trust (PEM public key or JWK); repeatable" },
        {},
};

static const CliCommand verify_command = {
        .name = "xbus registry verify",
        .summary = "check a snapshot as a node would, and describe it",
        .usage = "--anchor FILE [--anchor FILE ...] SNAPSHOT",
        .description = "Verify the snapshot's signature against the anchors, check its format and load its\n"
                       "registry; print its instance, version, times, signing key and retired keys. Fails on any\n"
                       "refusal, and on an expired snapshot.\n",
        .options = verify_options,
        .operands = true,
        .run = cmd_verify,
};

/* --- the group ----------------------------------------------------------- */

static const CliCommand *const registry_commands[] = { &publish_command, &verify_command };

static void registry_help(void)
{
        printf("Usage: xbus registry COMMAND [OPTIONS]\n\n"
               "The registry authority's side of a federation: signed registry snapshots (docs/federation.md).\n\n"
               "Commands:\n");
        cli_command_list(registry_commands, ELEMENTSOF(registry_commands));
        printf("\n`xbus registry COMMAND --help` describes each. Exit status: 0 success, 1 failure, 2 usage "
               "error.\n");
}

static int registry_run(const CliCommand *c, int argc, char **argv)
{
        const CliCommand *sub;

        if (argc < 2)
                return cli_command_usage_error(c, "which command?");
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                registry_help();
                return EXIT_SUCCESS;
        }
        sub = cli_command_find(registry_commands, ELEMENTSOF(registry_commands), argv[1]);
        if (!sub)
                return cli_command_usage_error(c, "no command \"%s\"", argv[1]);
        return cli_command_run(sub, argc - 1, argv + 1);
}

const CliCommand cli_registry_command = {
        .name = "xbus registry",
        .summary = "publish and verify signed registry snapshots (registry authority)",
        .run = registry_run,
        .help = registry_help,
};
