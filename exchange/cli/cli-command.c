/* cli-command.c: commands as data: parsing options and printing help from a command's table */
#include <assert.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli-command.h"

/* room for a command's options (its own and the shared ones) */
#define OPTIONS_MAX 48
/* getopt's value for the i-th option of a command when it has no key */
#define KEY_AUTO 0x1000

static const CliOption help_option = { 'h', "help", NULL, "this help" };

/* A command's options in help order (shared ones first, then its own, then --help). Return: how many. */
static size_t options_list(const CliCommand *c, const CliOption **list)
{
        const CliOption *sets[] = { c->common_options, c->options };
        size_t n = 0;

        for (size_t s = 0; s < ELEMENTSOF(sets); s++)
                for (const CliOption *o = sets[s]; o && o->name; o++) {
                        assert(n < OPTIONS_MAX);
                        list[n++] = o;
                }
        list[n++] = &help_option;
        return n;
}

static int option_key(const CliOption *o, size_t i)
{
        return o->key ? o->key : KEY_AUTO + (int)i;
}

/* "--name ARG", the left column of an option's help line */
static int option_left(const CliOption *o, char *buf, size_t size)
{
        return snprintf(buf, size, "--%s%s%s", o->name, o->arg ? " " : "", strempty(o->arg));
}

static void option_print(const CliOption *o, int width)
{
        char left[64];

        option_left(o, left, sizeof(left));
        if (o->key > 0 && o->key < CLI_OPTION_LONG)
                printf("  -%c, %-*s", o->key, width, left);
        else
                printf("      %-*s", width, left);
        /* a help of several lines continues in the same column */
        for (const char *p = o->help, *nl; p; p = nl ? nl + 1 : NULL) {
                nl = strchr(p, '\n');
                printf("%.*s\n%*s", nl ? (int)(nl - p) : (int)strlen(p), p, nl ? 6 + width : 0, "");
        }
}

void cli_command_help(const CliCommand *c)
{
        const CliOption *list[OPTIONS_MAX + 1];
        size_t n = options_list(c, list);
        char left[64];
        int width = 0;

        if (c->help) {
                c->help();
                return;
        }
        /* one column for every option's help: the longest "--name ARG" and two spaces */
        for (size_t i = 0; i < n; i++)
                if (list[i]->help)
                        width = MAX(width, option_left(list[i], left, sizeof(left)) + 2);
        printf("Usage: %s %s\n\n%s\n", c->name, c->usage ?: "[OPTIONS]", strempty(c->description));
        for (size_t i = 0; i < n; i++)
                if (list[i]->help)
                        option_print(list[i], width);
        if (c->epilogue)
                printf("\n%s", c->epilogue);
}

int cli_command_usage_error(const CliCommand *c, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: ", c->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see %s --help)\n", c->name);
        return CLI_EXIT_USAGE;
}

int cli_command_failure(const CliCommand *c, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "%s: ", c->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return EXIT_FAILURE;
}

/* getopt_long's tables: the long options, and the short ones as "s:u:h". */
static void getopt_tables(const CliOption *const *list, size_t n, struct option *longs, char *shorts)
{
        size_t ns = 0;

        for (size_t i = 0; i < n; i++) {
                const CliOption *o = list[i];
                longs[i] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL, option_key(o, i) };
                if (o->key > 0 && o->key < CLI_OPTION_LONG && !memchr(shorts, o->key, ns)) {
                        shorts[ns++] = (char)o->key;
                        if (o->arg)
                                shorts[ns++] = ':';
                }
        }
        longs[n] = (struct option){};
        shorts[ns] = 0;
}

int cli_command_parse(const CliCommand *c, int *argc, char ***argv, CliOptionFn fn, void *userdata)
{
        const CliOption *list[OPTIONS_MAX + 1], *o;
        size_t n = options_list(c, list), i;
        struct option longs[OPTIONS_MAX + 2];
        char shorts[2 * OPTIONS_MAX + 3];
        int key, r;

        getopt_tables(list, n, longs, shorts);
        optind = 0;
        opterr = 1;
        while ((key = getopt_long(*argc, *argv, shorts, longs, NULL)) >= 0) {
                for (i = 0; i < n && option_key(list[i], i) != key; i++)
                        ;
                if (i == n) /* '?': getopt said why */
                        return cli_command_usage_error(c, "unknown option");
                o = list[i];
                if (o == &help_option) {
                        cli_command_help(c);
                        return EXIT_SUCCESS;
                }
                if (o->store && o->arg)
                        *(const char **)((char *)userdata + o->offset) = optarg;
                else if (o->store)
                        *(bool *)((char *)userdata + o->offset) = true;
                else if ((r = fn(c, key, optarg, userdata)) != 0)
                        return r;
        }
        if (!c->operands && optind < *argc)
                return cli_command_usage_error(c, "unexpected argument \"%s\"", (*argv)[optind]);
        *argc -= optind;
        *argv += optind;
        return CLI_CONTINUE;
}

/* "show" of "xbus audit show" */
static const char *last_word(const char *name)
{
        const char *sp = strrchr(name, ' ');

        return sp ? sp + 1 : name;
}

const CliCommand *cli_command_find(const CliCommand *const *list, size_t n, const char *word)
{
        for (size_t i = 0; i < n; i++)
                if (streq(last_word(list[i]->name), word))
                        return list[i];
        return NULL;
}

void cli_command_list(const CliCommand *const *list, size_t n)
{
        int width = 0;

        for (size_t i = 0; i < n; i++)
                width = MAX(width, (int)strlen(last_word(list[i]->name)) + 1);
        for (size_t i = 0; i < n; i++)
                printf("  %-*s %s\n", width, last_word(list[i]->name), list[i]->summary);
}

int cli_command_run(const CliCommand *c, int argc, char **argv)
{
        /* getopt names argv[0] in its messages: "xbus audit show: unrecognized option" */
        argv[0] = (char *)c->name;
        optind = 0;
        opterr = 1;
        return c->run(c, argc, argv);
}
