/* cli-table.c: plain-text tables with sanitised, UTF-8 aware cells */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli-table.h"
#include "util/utf8.h"

struct CliTable {
        size_t n_columns;
        char *headers[CLI_TABLE_MAX_COLUMNS];
        size_t max_width[CLI_TABLE_MAX_COLUMNS];
        char **cells; /* n_rows * n_columns */
        size_t n_rows, allocated_rows;
};

char *cli_sanitize(const char *s, size_t max)
{
        const unsigned char *p = (const unsigned char *)strempty(s);
        size_t n = strlen((const char *)p), o = 0;
        char *out = malloc(MIN(n, max) + 1);

        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t l = utf8_decode((const char *)p + i, n - i, &cp);
                if (l == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) { /* C0, DEL, C1: they act on terminals */
                        if (o + 1 > max)
                                break;
                        out[o++] = '?';
                        i += l ? l : 1;
                        continue;
                }
                if (o + l > max)
                        break;
                memcpy(out + o, p + i, l);
                o += l;
                i += l;
        }
        out[o] = 0;
        return out;
}

void cli_put_sanitized(FILE *f, const char *s, size_t max)
{
        _cleanup_free_ char *t = cli_sanitize(s ? s : "-", max);

        fputs(t ? t : "?", f);
}

size_t cli_text_width(const char *s)
{
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        w++;
        return w;
}

int cli_table_new(CliTable **ret, const char *const *headers, size_t n)
{
        CliTable *t;

        if (!ret || !headers || n == 0 || n > CLI_TABLE_MAX_COLUMNS)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->n_columns = n;
        for (size_t i = 0; i < n; i++) {
                t->headers[i] = cli_sanitize(headers[i], CLI_TABLE_MAX_CELL);
                if (!t->headers[i]) {
                        cli_table_free(t);
                        return -ENOMEM;
                }
        }
        *ret = t;
        return 0;
}

CliTable *cli_table_free(CliTable *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_columns; i++)
                free(t->headers[i]);
        for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

int cli_table_set_max_width(CliTable *t, size_t column, size_t width)
{
        if (!t || column >= t->n_columns || width == 1)
                return -EINVAL;
        t->max_width[column] = width;
        return 0;
}

size_t cli_table_rows(const CliTable *t)
{
        return t ? t->n_rows : 0;
}

int cli_table_add_row(CliTable *t, const char *const *cells, size_t n)
{
        char **row;

        if (!t || !cells || n != t->n_columns)
                return -EINVAL;
        if (t->n_rows >= CLI_TABLE_MAX_ROWS)
                return -E2BIG;
        if (t->n_rows == t->allocated_rows) {
                size_t a = t->allocated_rows ? t->allocated_rows * 2 : 16;
                char **c = reallocarray(t->cells, a * t->n_columns, sizeof(char *));
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->allocated_rows = a;
        }
        row = t->cells + t->n_rows * t->n_columns;
        for (size_t i = 0; i < n; i++) {
                row[i] = cli_sanitize(cells[i] ? cells[i] : "-", CLI_TABLE_MAX_CELL);
                if (!row[i]) {
                        while (i > 0)
                                free(row[--i]);
                        return -ENOMEM;
                }
        }
        t->n_rows++;
        return 0;
}

/*
 * Print `s` cut to `max` code points (0: no limit). Padding is not written
 * at once but added to *pending, and written only before further text, so
 * that lines never end in spaces. Return: the columns the text took.
 */
static size_t print_cell(FILE *f, const char *s, size_t max, size_t *pending)
{
        size_t w = cli_text_width(s);

        if (w == 0)
                return 0;
        for (; *pending > 0; (*pending)--)
                fputc(' ', f);
        if (max && w > max) {
                const char *p = s;
                size_t keep = max - 1, seen = 0;
                while (*p) {
                        if (((unsigned char)*p & 0xc0) != 0x80) {
                                if (seen == keep)
                                        break;
                                seen++;
                        }
                        p++;
                }
                fwrite(s, 1, (size_t)(p - s), f);
                fputs("…", f);
                return max;
        }
        fputs(s, f);
        return w;
}

int cli_table_print(const CliTable *t, FILE *f)
{
        size_t width[CLI_TABLE_MAX_COLUMNS];

        if (!t || !f)
                return -EINVAL;
        for (size_t c = 0; c < t->n_columns; c++) {
                width[c] = cli_text_width(t->headers[c]);
                for (size_t r = 0; r < t->n_rows; r++)
                        width[c] = MAX(width[c], cli_text_width(t->cells[r * t->n_columns + c]));
                if (t->max_width[c])
                        width[c] = MIN(width[c], t->max_width[c]);
        }
        for (size_t r = 0; r <= t->n_rows; r++) {
                size_t pending = 0;
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *s = r == 0 ? t->headers[c] : t->cells[(r - 1) * t->n_columns + c];
                        size_t used = print_cell(f, s, t->max_width[c], &pending);
                        if (c + 1 < t->n_columns)
                                pending += width[c] - used + 2;
                }
                fputc('\n', f);
        }
        fflush(f);
        return ferror(f) ? -EIO : 0;
}

char *cli_shell_quote(const char *s)
{
        size_t n = strlen(strempty(s)), extra = 0;
        bool plain = n > 0;
        char *out, *o;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      strchr("_./:@%+=,-", c)))
                        plain = false;
                if (c == '\'')
                        extra += 3;
        }
        if (plain)
                return strdup(s);
        out = o = malloc(n + extra + 3);
        if (!out)
                return NULL;
        *o++ = '\'';
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '\'') {
                        memcpy(o, "'\\''", 4);
                        o += 4;
                } else
                        *o++ = s[i];
        }
        *o++ = '\'';
        *o = 0;
        return out;
}
