/* cli-table.h: plain-text tables for terminals (aligned columns, safe text)
 *
 * Cells are copied when added. What reaches the terminal is sanitised:
 * control characters (which could move the cursor or recolour the screen
 * when an entry carries them) and bytes that are not valid UTF-8 are shown
 * as '?'. Widths are counted in code points, and a column may be given a
 * maximum width: longer cells are cut on a code point boundary and end with
 * "…". Columns are separated by two spaces; lines have no trailing spaces.
 */
#pragma once

#include <stdio.h>

#include "util/macro.h"

#define CLI_TABLE_MAX_COLUMNS 16
#define CLI_TABLE_MAX_ROWS 100000
#define CLI_TABLE_MAX_CELL 4096 /* bytes kept of one cell */

typedef struct CliTable CliTable;

/*
 * cli_table_new(): a table with `n` columns named by `headers`
 * (1..CLI_TABLE_MAX_COLUMNS). Return: 0, -EINVAL, -ENOMEM.
 */
int cli_table_new(CliTable **ret, const char *const *headers, size_t n);
CliTable *cli_table_free(CliTable *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(CliTable *, cli_table_free);

/* cli_table_set_max_width(): cut cells of `column` to `width` (>= 2) code points; 0: no limit. */
int cli_table_set_max_width(CliTable *t, size_t column, size_t width);

/*
 * cli_table_add_row(): copy one row of `n` cells (the table's column count;
 * a NULL cell prints as "-"). Cells longer than CLI_TABLE_MAX_CELL bytes are
 * cut. Return: 0, -EINVAL (wrong count), -E2BIG (CLI_TABLE_MAX_ROWS
 * reached), -ENOMEM.
 */
int cli_table_add_row(CliTable *t, const char *const *cells, size_t n);

size_t cli_table_rows(const CliTable *t);

/* cli_table_print(): header line and rows to `f`. Return: 0 or -EIO. */
int cli_table_print(const CliTable *t, FILE *f);

/*
 * cli_sanitize(): a malloc'd copy of at most `max` bytes of `s` (cut on a
 * code point boundary) with control characters and invalid UTF-8 replaced by
 * '?'. Return: the copy, or NULL on ENOMEM.
 */
char *cli_sanitize(const char *s, size_t max);
/* cli_put_sanitized(): cli_sanitize() of `s` (NULL: "-") written to `f` ("?" when out of memory). */
void cli_put_sanitized(FILE *f, const char *s, size_t max);

/* cli_text_width(): code points in valid UTF-8 `s` (what cli_sanitize() returns). */
size_t cli_text_width(const char *s);

/*
 * cli_shell_quote(): `s` as one word for a POSIX shell: unchanged when it
 * holds only [A-Za-z0-9_./:@%+=,-] (and is not empty), else in single
 * quotes with embedded ones as '\''. Return: malloc'd text or NULL (ENOMEM).
 */
char *cli_shell_quote(const char *s);
