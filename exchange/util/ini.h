/* ini.h: INI-style configuration files (systemd-unit-like), value parsers and key tables */
#pragma once

/*
 * Syntax (used by the registry files and the daemon's configuration):
 *
 *     # a comment (also ";"), only at the start of a line
 *     [section]                  a section header
 *     [section argument]         a section header with one argument (no spaces in it)
 *     key = value                keys are [A-Za-z0-9_.-]+, values are trimmed
 *     key = first part \         a line ending in "\" continues on the next line;
 *           second part          the pieces are joined with one space
 *
 * Values are not unquoted and comments are not recognised after a value.
 * Limits: a file is at most INI_FILE_SIZE_MAX bytes and INI_LINES_MAX lines; a
 * physical line at most INI_LINE_MAX bytes; a continued (joined) line at most
 * INI_LOGICAL_LINE_MAX bytes. Text must be UTF-8 without control characters
 * (tab and a CR before the newline are accepted).
 *
 * Errors are collected in an IniErrors sink as "file:line: message" so that a
 * caller can report every problem in one go; parsing goes on after an error.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/fileio.h"
#include "util/macro.h"
#include "util/strv.h"

#define INI_FILE_SIZE_MAX MIB(4)
#define INI_LINE_MAX 4096
#define INI_LOGICAL_LINE_MAX KIB(16)
#define INI_LINES_MAX 100000U
#define INI_LIST_MAX 1024U   /* items of one list value, and of a list built over repeated keys */
#define INI_ERRORS_MAX 1000U /* messages an IniErrors keeps (the rest are only counted) */
#define INI_ITEMS_MAX 32U    /* entries of one IniItem table */

/* Positive, module-specific results (negative values are -errno). */
enum {
        INI_E_SYNTAX = 1, /* the text had errors; they were added to the IniErrors */
};

/* ---- Error sink ---------------------------------------------------------------------------- */

typedef struct IniError {
        char *file;
        unsigned line;
        char *message;
        size_t seq; /* order of arrival, for a stable sort */
} IniError;

/* Zero-initialise (`IniErrors e = {};`), release with ini_errors_done(). */
typedef struct IniErrors {
        IniError *errors;
        size_t n_errors;
        size_t n_allocated;
        size_t n_total; /* every error reported, including those past INI_ERRORS_MAX */
        bool oom;       /* a message could not be stored: callers return -ENOMEM */
} IniErrors;

/*
 * ini_errors_add(): record "file:line: message". Never fails: on out of memory
 * it sets e->oom (check it with ini_errors_count()/ini_errors_to_string()).
 */
void ini_errors_add(IniErrors *e, const char *file, unsigned line, const char *fmt, ...) _printf_(4, 5);

/* ini_errors_count(): how many errors were reported (kept or not). */
static inline size_t ini_errors_count(const IniErrors *e)
{
        return e->n_total;
}

/*
 * ini_errors_to_string(): every kept error as "file:line: message\n", sorted
 * by file name then line (then order of arrival), followed by "... and N more
 * errors" when some were dropped. *ret is malloc'd, owned by the caller.
 * Return: 0, or -ENOMEM (also when an earlier add ran out of memory).
 */
int ini_errors_to_string(IniErrors *e, char **ret);

/* ini_errors_done(): free the messages; the sink may be reused afterwards. */
void ini_errors_done(IniErrors *e);

/* ---- Parser -------------------------------------------------------------------------------- */

/*
 * IniHandler: called once per section header (key and value NULL) and once
 * per "key = value" line, in file order. `line` is the line number of the
 * header or key (the first line of a continued line). `arg` is NULL when the
 * header has no argument. All strings are valid only during the call.
 * Keys after a malformed header, or before any header, are reported as
 * errors (the latter) or skipped (the former) and never passed.
 * Return: >= 0 to go on, < 0 to stop parsing (ini_parse() returns it).
 */
typedef int (*IniHandler)(const char *file, unsigned line, const char *section, const char *arg, const char *key,
                          const char *value, void *userdata);

/*
 * ini_parse(): parse `size` bytes of `text` (need not be NUL-terminated)
 * named `file` in messages, calling `handler` for every header and key and
 * adding every syntax error to `errors`.
 * Return: 0, INI_E_SYNTAX (errors were added), -ENOMEM, or the handler's
 * negative value.
 */
int ini_parse(const char *file, const char *text, size_t size, IniHandler handler, void *userdata, IniErrors *errors);

/* ---- Value parsers (table-driven; values are already trimmed) ------------------------------ */

/* ini_parse_bool(): yes/no, true/false, on/off, 1/0 (any case). Return: 0 or -EINVAL. */
int ini_parse_bool(const char *s, bool *ret);

/*
 * ini_parse_size(): a byte count, "512", "512B", "64K"/"64KiB", "1M"/"1MiB",
 * "2G"/"2GiB", "1T"/"1TiB" (powers of 1024; a space before the unit is fine).
 * Return: 0, -EINVAL (malformed), -ERANGE (overflow).
 */
int ini_parse_size(const char *s, uint64_t *ret);

/*
 * ini_parse_duration(): milliseconds from "500ms", "5s", "2min", "1h", "1d",
 * or a sum such as "1min 30s"; a bare number is seconds ("5" = 5000).
 * Units: ms msec s sec m min h hr d.
 * Return: 0, -EINVAL (malformed), -ERANGE (overflow).
 */
int ini_parse_duration(const char *s, uint64_t *ret_ms);

/*
 * ini_parse_list(): split on commas and/or whitespace, dropping empty items.
 * *ret is a malloc'd NULL-terminated string vector (free with strv_free(), util/strv.h).
 * Return: 0, -E2BIG (more than INI_LIST_MAX items), -ENOMEM.
 */
int ini_parse_list(const char *s, char ***ret);

/* ---- Key tables ---------------------------------------------------------------------------- */

/*
 * IniItemParser: parse `value` (from line `line`) into `dst` (the object's
 * field). Return: 0, -EINVAL (bad value: reported with the item's
 * `expected`), -E2BIG (too many values), -ENOMEM.
 */
typedef int (*IniItemParser)(const char *value, unsigned line, void *dst);

int ini_item_string(const char *value, unsigned line, void *dst);   /* char **: a non-empty string (replaces) */
int ini_item_bool(const char *value, unsigned line, void *dst);     /* bool * */
int ini_item_size(const char *value, unsigned line, void *dst);     /* size_t * */
int ini_item_duration(const char *value, unsigned line, void *dst); /* uint64_t *, milliseconds */
int ini_item_strv(const char *value, unsigned line, void *dst);     /* char ***: appends a non-empty list */

enum {
        INI_ITEM_REQUIRED = 1U << 0, /* ini_section_check_required() reports it when absent */
        INI_ITEM_MULTI = 1U << 1,    /* may be given more than once (the parser accumulates) */
};

typedef struct IniItem {
        const char *key;
        IniItemParser parse;
        size_t offset;        /* of the field within the object */
        unsigned flags;       /* INI_ITEM_* */
        const char *expected; /* for messages: "a size such as 64KiB" */
} IniItem;

/* What ini_section_apply() remembers about one section of an object. */
typedef struct IniSection {
        const char *type;              /* "service": static storage, for messages */
        const char *file;              /* not owned: must outlive the section */
        unsigned line;                 /* of the header */
        uint64_t seen;                 /* bit i: items[i] was given */
        unsigned lines[INI_ITEMS_MAX]; /* line where items[i] was (last) given */
        uint64_t digest; /* of the "key = value" pairs applied, in any order: equal sections, equal digests */
} IniSection;

/*
 * ini_section_apply(): find `key` in `items` and parse `value` into
 * `object` + offset. Unknown keys, repeated single keys and bad values are
 * added to `errors` ("unknown key 'x' in [type] section", "key 'x' given twice
 * (first on line N)", "invalid value 'v' for 'x': expected ...").
 * Return: 0 (applied, or an error was recorded), -ENOMEM.
 */
int ini_section_apply(IniSection *s, const IniItem *items, size_t n_items, void *object, unsigned line, const char *key,
                      const char *value, IniErrors *errors);

/* ini_section_check_required(): report "missing required key 'x'" at the header line. */
void ini_section_check_required(const IniSection *s, const IniItem *items, size_t n_items, IniErrors *errors);

/* ini_section_has(): whether items[index] was given. */
static inline bool ini_section_has(const IniSection *s, size_t index)
{
        return index < INI_ITEMS_MAX && (s->seen & (UINT64_C(1) << index));
}

/* ini_section_line(): the line of items[index], or the header line when absent. */
static inline unsigned ini_section_line(const IniSection *s, size_t index)
{
        return ini_section_has(s, index) ? s->lines[index] : s->line;
}
