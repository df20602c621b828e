/* cli-log.h: the exchange log as operators and auditors read it from the command line
 *
 * Reads STATE/log through an ExlogReader (read-only LMDB; works while xbusd
 * is writing). Entries are shown as a table of the fields a reader scans for
 * (seq, time, client, service, decision, status/error, purpose, basis) or
 * printed raw, one JSON object per line, exactly the bytes the log holds.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/cli-table.h"
#include "log/exlog.h"

#define CLI_LOG_DEFAULT_LAST 20
#define CLI_LOG_MAX_LAST 10000

/*
 * cli_log_open(): an ExlogReader on STATE/log. On failure *ret_error (if
 * given) is a malloc'd reason. Return: 0, -ENOENT (no log there), -errno.
 */
int cli_log_open(const char *state_dir, ExlogReader **ret, char **ret_error);

/* cli_log_table_new(): an empty table with the log's columns and widths. Return: 0 or -ENOMEM. */
int cli_log_table_new(CliTable **ret);

/*
 * cli_log_table_add(): one row for `entry` (a parsed log entry). Fields that
 * are missing or of the wrong type show as "-"; the time is shown to the
 * second ("2026-11-22 08:01:02", UTC). Return: 0, -EINVAL (not an object),
 * -E2BIG, -ENOMEM.
 */
int cli_log_table_add(CliTable *t, const json_t *entry);

/*
 * cli_log_status_text(): "200", "403 access_denied", or "access_denied"
 * when the status is absent, into `out`. Return: out.
 */
char *cli_log_status_text(const json_t *entry, char *out, size_t size);

/*
 * cli_log_get(): entry `seq`, raw (*ret_text, malloc'd, NUL-terminated; may
 * be NULL) and parsed (*ret_entry, may be NULL). Return: 0, -ENOENT,
 * -EBADMSG (stored bytes are not a JSON object), -errno.
 */
int cli_log_get(ExlogReader *r, uint64_t seq, char **ret_text, json_t **ret_entry);

/*
 * cli_log_print_last(): print the last `last` entries (1..CLI_LOG_MAX_LAST)
 * as a table, or raw with `json`. *ret_error as cli_log_open().
 * Return: 0, -EINVAL, -ENOENT, -errno.
 */
int cli_log_print_last(const char *state_dir, uint64_t last, bool json, FILE *out, char **ret_error);
