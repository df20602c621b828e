/* cli-log.c: reading and printing the exchange log */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli-common.h"
#include "cli/cli-log.h"
#include "util/macro.h"

enum {
        COL_SEQ,
        COL_TIME,
        COL_CLIENT,
        COL_SERVICE,
        COL_DECISION,
        COL_STATUS,
        COL_PURPOSE,
        COL_BASIS,
        _COL_MAX,
};

static const char *const headers[_COL_MAX] = {
        "SEQ", "TIME (UTC)", "CLIENT", "SERVICE", "DECISION", "STATUS", "PURPOSE", "BASIS",
};

int cli_log_open(const char *state_dir, ExlogReader **ret, char **ret_error)
{
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        int r;

        if (isempty(state_dir) || !ret)
                return error_set(ret_error, -EINVAL, "no state folder given");
        if (asprintf(&dir, "%s/log", state_dir) < 0)
                return error_set(ret_error, -ENOMEM, "out of memory");
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return error_set(ret_error, -ENOENT,
                                 "no exchange log in \"%s\" (has xbusd run with state folder \"%s\"?)", dir, state_dir);
        r = exlog_reader_open(ret, dir);
        if (r < 0)
                return error_set(ret_error, r, "cannot open the exchange log \"%s\": %s", dir, strerror(-r));
        return 0;
}

int cli_log_table_new(CliTable **ret)
{
        CliTable *t = NULL;
        int r;

        r = cli_table_new(&t, headers, _COL_MAX);
        if (r < 0)
                return r;
        cli_table_set_max_width(t, COL_CLIENT, 34);
        cli_table_set_max_width(t, COL_SERVICE, 44);
        cli_table_set_max_width(t, COL_STATUS, 30);
        cli_table_set_max_width(t, COL_PURPOSE, 28);
        *ret = t;
        return 0;
}

static const char *field(const json_t *entry, const char *key)
{
        return json_string_value(json_object_get(entry, key));
}

char *cli_log_status_text(const json_t *entry, char *out, size_t size)
{
        json_t *status = json_object_get(entry, "status");
        const char *error = field(entry, "error");

        if (json_is_integer(status) && json_integer_value(status) > 0)
                snprintf(out, size, "%" JSON_INTEGER_FORMAT "%s%s", json_integer_value(status), error ? " " : "",
                         strempty(error));
        else
                snprintf(out, size, "%s", error ? error : "-");
        return out;
}

int cli_log_table_add(CliTable *t, const json_t *entry)
{
        char seq[32] = "-", time[20] = "-", status[160];
        json_t *s;
        const char *tm;

        if (!json_is_object(entry))
                return -EINVAL;
        s = json_object_get(entry, "seq");
        if (json_is_integer(s))
                snprintf(seq, sizeof(seq), "%" JSON_INTEGER_FORMAT, json_integer_value(s));
        tm = field(entry, "time");
        if (tm && strlen(tm) >= 19 && tm[10] == 'T') {
                /* "2026-11-22T08:01:02.123456Z" -> "2026-11-22 08:01:02" */
                memcpy(time, tm, 19);
                time[10] = ' ';
                time[19] = 0;
        } else if (tm)
                snprintf(time, sizeof(time), "%s", tm);
        cli_log_status_text(entry, status, sizeof(status));

        return cli_table_add_row(t,
                                 (const char *const[]){ seq, time, field(entry, "client"), field(entry, "service"),
                                                        field(entry, "decision"), status, field(entry, "purpose"),
                                                        field(entry, "basis") },
                                 _COL_MAX);
}

int cli_log_get(ExlogReader *r, uint64_t seq, char **ret_text, json_t **ret_entry)
{
        _cleanup_free_ char *text = NULL;
        json_t *entry = NULL;
        size_t size;
        int k;

        k = exlog_reader_get(r, seq, &text, &size);
        if (k < 0)
                return k;
        if (ret_entry) {
                entry = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
                if (!json_is_object(entry)) {
                        json_decref(entry);
                        return -EBADMSG;
                }
                *ret_entry = entry;
        }
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return 0;
}

int cli_log_print_last(const char *state_dir, uint64_t last, bool json, FILE *out, char **ret_error)
{
        _cleanup_(exlog_reader_closep) ExlogReader *reader = NULL;
        _cleanup_(cli_table_freep) CliTable *t = NULL;
        uint64_t size, first;
        int r;

        if (last < 1 || last > CLI_LOG_MAX_LAST)
                return error_set(ret_error, -EINVAL, "--last must be 1..%d", CLI_LOG_MAX_LAST);
        r = cli_log_open(state_dir, &reader, ret_error);
        if (r < 0)
                return r;
        r = exlog_reader_size(reader, &size);
        if (r < 0)
                return error_set(ret_error, r, "cannot read the exchange log: %s", strerror(-r));
        first = size > last ? size - last : 0;
        if (!json) {
                r = cli_log_table_new(&t);
                if (r < 0)
                        return error_set(ret_error, r, "out of memory");
        }
        for (uint64_t seq = first; seq < size; seq++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(json_decrefp) json_t *entry = NULL;

                r = cli_log_get(reader, seq, json ? &text : NULL, json ? NULL : &entry);
                if (r == -EBADMSG) {
                        /* show that the entry is there but unreadable; never skip it silently */
                        char s[32];
                        snprintf(s, sizeof(s), "%" PRIu64, seq);
                        r = cli_table_add_row(t,
                                              (const char *const[]){ s, "(entry is not a JSON object)", NULL, NULL,
                                                                     NULL, NULL, NULL, NULL },
                                              _COL_MAX);
                        if (r < 0)
                                return error_set(ret_error, r, "out of memory");
                        continue;
                }
                if (r < 0)
                        return error_set(ret_error, r, "cannot read log entry %" PRIu64 ": %s", seq, strerror(-r));
                if (json) {
                        /* the entry's exact bytes; the writer never stores a newline in one */
                        fputs(text, out);
                        fputc('\n', out);
                } else {
                        r = cli_log_table_add(t, entry);
                        if (r < 0)
                                return error_set(ret_error, r, "out of memory");
                }
        }
        if (!json) {
                if (cli_table_rows(t) == 0)
                        fprintf(out, "The exchange log is empty.\n");
                else
                        r = cli_table_print(t, out);
        }
        fflush(out);
        if (r < 0 || ferror(out))
                return error_set(ret_error, -EIO, "cannot write the output");
        return 0;
}
