/* cli-command.h: commands as data: name, summary, usage, options and handler, with the parsing and help they imply
 *
 * Every `xbus COMMAND` (xbus.c) and `xbus audit COMMAND` (cli-audit*.c) is
 * one CliCommand, defined beside its handler. The option table is written
 * once and serves three purposes: getopt_long's tables, the `--help` text
 * (generated: usage line, description, one aligned line per option,
 * epilogue) and where each option goes: most are stored in the handler's
 * argument struct (CLI_STRING, CLI_FLAG, by offset, type-checked), the
 * others (numbers, checks) go to the handler's option function.
 * `-h, --help` is added to every command. Usage errors go one way: "NAME:
 * MESSAGE (see NAME --help)" on standard error and exit status
 * CLI_EXIT_USAGE (cli_command_usage_error()); failures "NAME: MESSAGE" and
 * EXIT_FAILURE.
 *
 * A handler looks like:
 *
 *     r = cli_command_parse(c, &argc, &argv, key_option, &args);
 *     if (r != CLI_CONTINUE)
 *             return r;           (help printed, or a usage error)
 *     ... argv[0 .. argc) are the operands ...
 *
 * Ownership: commands and their tables are static data; nothing here
 * allocates. getopt's global state (optind, opterr) is reset by
 * cli_command_parse(), so commands run one after the other in one process
 * (the unit test) parse cleanly.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cli/cli-common.h"
#include "util/macro.h"

/* what cli_command_parse() returns when the command is to run */
#define CLI_CONTINUE (-1)

/* keys of long-only options that a handler must tell apart start here (0 will do for the others) */
#define CLI_OPTION_LONG 0x100

typedef struct CliOption {
        int key;          /* the short letter ('s' for -s); >= CLI_OPTION_LONG or 0: long only */
        const char *name; /* the long name, without "--"; NULL ends a table */
        const char *arg;  /* the argument's name in the help ("DIR"), or NULL: a flag without argument */
        const char *help; /* the help line ('\n' continues it, aligned); NULL: accepted but not listed (an alias) */
        bool store; /* store the argument (or true, for a flag) at `offset` in userdata; false: call the handler */
        size_t offset;
} CliOption;

/* offsetof(type, field), refused at compile time unless the field is of type `want` */
#define CLI_FIELD(type, field, want) \
        (offsetof(type, field) +     \
         0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((type *)0)->field), want) ? 1 : -1]))
/* an option whose argument is stored in a `const char *` field of the handler's struct */
#define CLI_STRING(key, name, arg, help, type, field)                            \
        {                                                                        \
                key, name, arg, help, true, CLI_FIELD(type, field, const char *) \
        }
/* a flag that sets a `bool` field of the handler's struct */
#define CLI_FLAG(key, name, help, type, field)                            \
        {                                                                 \
                key, name, NULL, help, true, CLI_FIELD(type, field, bool) \
        }

typedef struct CliCommand CliCommand;

/*
 * A command's option handler, for the options that are not stored: called
 * in command-line order with the option's key (for a key of 0, a value
 * that means only "that option") and argument (NULL for flags).
 * Return: 0 to go on, or the exit status to stop with (usually
 * cli_command_usage_error()'s).
 */
typedef int (*CliOptionFn)(const CliCommand *c, int key, const char *arg, void *userdata);

struct CliCommand {
        const char *name;                /* the whole command: "xbus call", "xbus audit show" */
        const char *summary;             /* one line, for the list of commands */
        const char *usage;               /* what follows "Usage: NAME "; NULL: "[OPTIONS]" */
        const char *description;         /* paragraphs after the usage line, '\n'-terminated */
        const CliOption *common_options; /* options a group of commands shares, listed first; or NULL */
        const CliOption *options;        /* the command's own, ended by { .name = NULL }; or NULL */
        const char *epilogue;            /* after the options (notes, examples), '\n'-terminated; or NULL */
        bool operands;                   /* the handler checks operands; false: any operand is a usage error */
        int (*run)(const CliCommand *c, int argc, char **argv); /* the handler; returns the exit status */
        void (*help)(void); /* a help of its own (a group of subcommands); NULL: generated from the above */
};

/*
 * cli_command_parse(): parse the options of `*argv` (argv[0] names the
 * command for getopt's messages) with c's tables: stored options are
 * written into `userdata`, the others given to `fn` (may be NULL when all
 * are stored); `--help` prints the help. On CLI_CONTINUE, *argc and *argv are moved to
 * the operands. Unknown options and missing arguments are usage errors, and
 * so are operands when c->operands is false.
 * Return: CLI_CONTINUE, or the exit status to return at once (EXIT_SUCCESS
 * after --help, CLI_EXIT_USAGE, or what `fn` returned).
 */
int cli_command_parse(const CliCommand *c, int *argc, char ***argv, CliOptionFn fn, void *userdata);

/* cli_command_help(): print the command's help on standard output. */
void cli_command_help(const CliCommand *c);

/* cli_command_usage_error(): "NAME: MESSAGE (see NAME --help)" on stderr. Return: CLI_EXIT_USAGE. */
int cli_command_usage_error(const CliCommand *c, const char *fmt, ...) _printf_(2, 3);

/* cli_command_failure(): "NAME: MESSAGE" on stderr. Return: EXIT_FAILURE. */
int cli_command_failure(const CliCommand *c, const char *fmt, ...) _printf_(2, 3);

/* cli_command_find(): the command of `list` whose name ends with the word `word` ("show"), or NULL. */
const CliCommand *cli_command_find(const CliCommand *const *list, size_t n, const char *word);

/* cli_command_list(): "  WORD  SUMMARY" lines (the last word of each name) on standard output, aligned. */
void cli_command_list(const CliCommand *const *list, size_t n);

/*
 * cli_command_run(): run c with argv[1..argc) its arguments; argv[0]
 * becomes c's name, for getopt's messages. Return: the handler's exit status.
 */
int cli_command_run(const CliCommand *c, int argc, char **argv);
