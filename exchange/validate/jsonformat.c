/* jsonformat.c: `format` checkers (dates, e-mail, host names, IP addresses, URIs, UUIDs, pointers) */
#include <errno.h>

#include "util/bytes.h"
#include "validate/ecmaregex.h"
#include "validate/jsonformat.h"
#include "validate/jsonschema.h"

static const struct {
        const char *name;
        unsigned bit;
} format_names[] = {
        { "date", JSON_SCHEMA_FORMAT_DATE },
        { "date-time", JSON_SCHEMA_FORMAT_DATE_TIME },
        { "time", JSON_SCHEMA_FORMAT_TIME },
        { "duration", JSON_SCHEMA_FORMAT_DURATION },
        { "email", JSON_SCHEMA_FORMAT_EMAIL },
        { "hostname", JSON_SCHEMA_FORMAT_HOSTNAME },
        { "ipv4", JSON_SCHEMA_FORMAT_IPV4 },
        { "ipv6", JSON_SCHEMA_FORMAT_IPV6 },
        { "uri", JSON_SCHEMA_FORMAT_URI },
        { "uri-reference", JSON_SCHEMA_FORMAT_URI_REFERENCE },
        { "uuid", JSON_SCHEMA_FORMAT_UUID },
        { "json-pointer", JSON_SCHEMA_FORMAT_JSON_POINTER },
        { "relative-json-pointer", JSON_SCHEMA_FORMAT_RELATIVE_JSON_POINTER },
        { "regex", JSON_SCHEMA_FORMAT_REGEX },
        { "uri-template", JSON_SCHEMA_FORMAT_URI_TEMPLATE },
};

unsigned jsonformat_from_name(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(format_names); i++)
                if (streq(format_names[i].name, name))
                        return format_names[i].bit;
        return 0;
}

/* n ASCII digits at s as a number, or -1. */
static int digits(const char *s, size_t n)
{
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!ascii_isdigit(s[i]))
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

static bool is_leap(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 full-date, exactly 10 bytes */
static bool check_date(const char *s, size_t len)
{
        static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        int y, m, d, max;

        if (len != 10 || s[4] != '-' || s[7] != '-')
                return false;
        y = digits(s, 4);
        m = digits(s + 5, 2);
        d = digits(s + 8, 2);
        if (y < 0 || m < 1 || m > 12 || d < 1)
                return false;
        max = mdays[m - 1] + (m == 2 && is_leap(y));
        return d <= max;
}

/* RFC 3339 full-time (with time offset); leap seconds only at 23:59:60 UTC */
static bool check_time(const char *s, size_t len)
{
        int h, m, sec, oh = 0, om = 0, sign = 0;
        size_t i;

        if (len < 9 || s[2] != ':' || s[5] != ':')
                return false;
        h = digits(s, 2);
        m = digits(s + 3, 2);
        sec = digits(s + 6, 2);
        if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
                return false;
        i = 8;
        if (i < len && s[i] == '.') {
                size_t start = ++i;
                while (i < len && ascii_isdigit(s[i]))
                        i++;
                if (i == start)
                        return false;
        }
        if (i >= len)
                return false;
        if (s[i] == 'Z' || s[i] == 'z') {
                if (i + 1 != len)
                        return false;
        } else if (s[i] == '+' || s[i] == '-') {
                sign = s[i] == '+' ? 1 : -1;
                if (len - i != 6 || s[i + 3] != ':')
                        return false;
                oh = digits(s + i + 1, 2);
                om = digits(s + i + 4, 2);
                if (oh < 0 || oh > 23 || om < 0 || om > 59)
                        return false;
        } else
                return false;
        if (sec == 60) {
                /* the UTC time of a leap second is 23:59 */
                int minutes = h * 60 + m - sign * (oh * 60 + om);
                minutes = ((minutes % 1440) + 1440) % 1440;
                if (minutes != 23 * 60 + 59)
                        return false;
        }
        return true;
}

static bool check_date_time(const char *s, size_t len)
{
        if (len < 11 || (s[10] != 'T' && s[10] != 't'))
                return false;
        return check_date(s, 10) && check_time(s + 11, len - 11);
}

/* One run of "<digits><unit>" groups whose units follow `units` in order, without gaps. */
static bool duration_part(const char *s, size_t len, size_t *i, const char *units, char stop)
{
        int next = -1;
        bool any = false;

        while (*i < len && s[*i] != stop) {
                size_t start = *i;
                const char *u;
                while (*i < len && ascii_isdigit(s[*i]))
                        (*i)++;
                if (*i == start || *i >= len || s[*i] == 0)
                        return false;
                u = strchr(units, s[*i]);
                if (!u || (next >= 0 && (int)(u - units) != next))
                        return false;
                next = (int)(u - units) + 1;
                any = true;
                (*i)++;
        }
        return any;
}

/* RFC 3339 appendix A duration: "P" (dur-date [dur-time] / dur-time / dur-week) */
static bool check_duration(const char *s, size_t len)
{
        size_t i = 1;
        bool date = false;

        if (len < 3 || s[0] != 'P')
                return false;
        if (s[len - 1] == 'W') {
                for (i = 1; i < len - 1; i++)
                        if (!ascii_isdigit(s[i]))
                                return false;
                return true;
        }
        if (s[i] != 'T') {
                if (!duration_part(s, len, &i, "YMD", 'T'))
                        return false;
                date = true;
        }
        if (i < len) {
                i++; /* 'T' */
                return duration_part(s, len, &i, "HMS", 0) && i == len;
        }
        return date;
}

/* RFC 1123 host name: labels of [A-Za-z0-9-], 1..63 bytes, no '-' at either end, 253 bytes in all */
static bool check_hostname(const char *s, size_t len)
{
        size_t label = 0;

        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i <= len; i++) {
                if (i == len || s[i] == '.') {
                        const char *l = s + i - label;
                        if (label == 0 || label > 63 || l[0] == '-' || l[label - 1] == '-')
                                return false;
                        /* "--" in the 3rd and 4th place is reserved for A-labels ("xn--") */
                        if (label >= 4 && l[2] == '-' && l[3] == '-' &&
                            !((l[0] == 'x' || l[0] == 'X') && (l[1] == 'n' || l[1] == 'N')))
                                return false;
                        label = 0;
                        continue;
                }
                if (!ascii_isalpha(s[i]) && !ascii_isdigit(s[i]) && s[i] != '-')
                        return false;
                label++;
        }
        return true;
}

static bool check_ipv4(const char *s, size_t len)
{
        size_t i = 0;

        for (int part = 0; part < 4; part++) {
                size_t start = i;
                int v = 0;
                if (part > 0) {
                        if (i >= len || s[i] != '.')
                                return false;
                        start = ++i;
                }
                while (i < len && ascii_isdigit(s[i]) && i - start < 3)
                        v = v * 10 + (s[i++] - '0');
                if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
                        return false;
        }
        return i == len;
}

static bool check_ipv6(const char *s, size_t len)
{
        int groups = 0;
        bool gap = false;
        size_t i = 0;

        if (len < 2 || len > 45)
                return false;
        if (s[0] == ':') {
                if (s[1] != ':')
                        return false;
                gap = true;
                i = 2;
                if (i == len)
                        return true;
        }
        while (i < len) {
                size_t start = i;
                while (i < len && hex_digit(s[i]) >= 0 && i - start < 5)
                        i++;
                if (i < len && s[i] == '.') {
                        /* embedded IPv4 at the end, counts as two groups */
                        if (!check_ipv4(s + start, len - start))
                                return false;
                        groups += 2;
                        i = len;
                        break;
                }
                if (i == start || i - start > 4)
                        return false;
                groups++;
                if (i == len)
                        break;
                if (s[i] != ':')
                        return false;
                i++;
                if (i < len && s[i] == ':') {
                        if (gap)
                                return false;
                        gap = true;
                        i++;
                        if (i == len)
                                break;
                } else if (i == len)
                        return false;
        }
        return gap ? groups < 8 : groups == 8;
}

/* RFC 3986 character classes */
static bool is_unreserved(char c)
{
        return ascii_isalpha(c) || ascii_isdigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool is_sub_delim(char c)
{
        return c && strchr("!$&'()*+,;=", c);
}

/* pct-encoded at s[*i]: advances *i. */
static bool pct(const char *s, size_t len, size_t *i)
{
        if (*i + 3 > len || s[*i] != '%' || hex_digit(s[*i + 1]) < 0 || hex_digit(s[*i + 2]) < 0)
                return false;
        *i += 3;
        return true;
}

/* *( pchar / extra ) until a byte in `stop`; pchar = unreserved / pct-encoded / sub-delims / ":" / "@" */
static bool scan_chars(const char *s, size_t len, size_t *i, const char *extra, const char *stop)
{
        while (*i < len && !strchr(stop, s[*i])) {
                char c = s[*i];
                if (c == '%') {
                        if (!pct(s, len, i))
                                return false;
                        continue;
                }
                if (!(is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || (c && strchr(extra, c))))
                        return false;
                (*i)++;
        }
        return true;
}

static bool check_authority(const char *s, size_t len)
{
        const char *at = NULL, *host;
        size_t hlen, i;

        for (size_t k = 0; k < len; k++)
                if (s[k] == '@')
                        at = s + k;
        if (at) {
                i = 0;
                if (!scan_chars(s, at - s, &i, "", "@") || i != (size_t)(at - s))
                        return false;
                host = at + 1;
        } else
                host = s;
        hlen = len - (host - s);
        if (hlen > 0 && host[0] == '[') {
                const char *close = memchr(host, ']', hlen);
                if (!close)
                        return false;
                if (close - host > 1 && (host[1] == 'v' || host[1] == 'V')) {
                        /* IPvFuture */
                        if (close - host < 4)
                                return false;
                } else if (!check_ipv6(host + 1, close - host - 1))
                        return false;
                i = close + 1 - host;
        } else {
                i = 0;
                while (i < hlen && host[i] != ':') {
                        if (host[i] == '%') {
                                if (!pct(host, hlen, &i))
                                        return false;
                                continue;
                        }
                        if (!is_unreserved(host[i]) && !is_sub_delim(host[i]))
                                return false;
                        i++;
                }
        }
        if (i < hlen) {
                if (host[i] != ':')
                        return false;
                for (i++; i < hlen; i++)
                        if (!ascii_isdigit(host[i]))
                                return false;
        }
        return true;
}

/* hier-part / relative-part, query and fragment from s[i]. */
static bool check_uri_rest(const char *s, size_t len, size_t i, bool relative)
{
        if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
                size_t start = i + 2, end = start;
                while (end < len && s[end] != '/' && s[end] != '?' && s[end] != '#')
                        end++;
                if (!check_authority(s + start, end - start))
                        return false;
                i = end;
        } else if (relative) {
                /* path-noscheme: no ':' in the first segment */
                for (size_t k = i; k < len && s[k] != '/' && s[k] != '?' && s[k] != '#'; k++)
                        if (s[k] == ':')
                                return false;
        }
        if (!scan_chars(s, len, &i, "/", "?#"))
                return false;
        if (i < len && s[i] == '?') {
                i++;
                if (!scan_chars(s, len, &i, "/?", "#"))
                        return false;
        }
        if (i < len && s[i] == '#') {
                i++;
                if (!scan_chars(s, len, &i, "/?", ""))
                        return false;
        }
        return i == len;
}

/* scheme ":" at the start; return the index after ':' or 0. */
static size_t scheme_len(const char *s, size_t len)
{
        size_t i;

        if (len == 0 || !ascii_isalpha(s[0]))
                return 0;
        for (i = 1;
             i < len && (ascii_isalpha(s[i]) || ascii_isdigit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'); i++)
                ;
        return i < len && s[i] == ':' ? i + 1 : 0;
}

static bool check_uri(const char *s, size_t len)
{
        size_t i = scheme_len(s, len);
        return i > 0 && check_uri_rest(s, len, i, false);
}

static bool check_uri_reference(const char *s, size_t len)
{
        size_t i = scheme_len(s, len);
        return check_uri_rest(s, len, i, i == 0);
}

/* RFC 5321 Mailbox: dot-atom or quoted local part, host name or address literal */
static bool check_email(const char *s, size_t len)
{
        const char *at = NULL;
        size_t i, llen;

        if (len == 0)
                return false;
        if (s[0] == '"') {
                for (i = 1; i < len && s[i] != '"'; i++) {
                        if (s[i] == '\\') {
                                i++;
                                if (i >= len || (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
                                        return false;
                        } else if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
                                return false;
                }
                if (i >= len || i + 1 >= len || s[i + 1] != '@')
                        return false;
                at = s + i + 1;
        } else {
                bool dot = true;
                for (i = 0; i < len && s[i] != '@'; i++) {
                        char c = s[i];
                        if (c == '.') {
                                if (dot)
                                        return false;
                                dot = true;
                                continue;
                        }
                        if (!(ascii_isalpha(c) || ascii_isdigit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c))))
                                return false;
                        dot = false;
                }
                if (i == 0 || i >= len || dot)
                        return false;
                at = s + i;
        }
        llen = at - s;
        if (llen > 64)
                return false;
        s = at + 1;
        len -= llen + 1;
        if (len > 2 && s[0] == '[' && s[len - 1] == ']') {
                if (len > 7 && strneq(s + 1, "IPv6:", 5))
                        return check_ipv6(s + 6, len - 7);
                return check_ipv4(s + 1, len - 2);
        }
        return check_hostname(s, len);
}

static bool check_uuid(const char *s, size_t len)
{
        if (len != 36)
                return false;
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return false;
                } else if (hex_digit(s[i]) < 0)
                        return false;
        }
        return true;
}

static bool check_json_pointer(const char *s, size_t len)
{
        if (len > 0 && s[0] != '/')
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
                        return false;
        return true;
}

static bool check_relative_json_pointer(const char *s, size_t len)
{
        size_t i = 0;

        while (i < len && ascii_isdigit(s[i]))
                i++;
        if (i == 0 || (s[0] == '0' && i > 1))
                return false;
        if (i < len && s[i] == '#')
                return i + 1 == len;
        return check_json_pointer(s + i, len - i);
}

static bool check_regex(const char *s, size_t len)
{
        _cleanup_(ecmaregex_freep) EcmaRegex *re = NULL;

        /* the ECMA checks and PCRE2's own syntax check */
        return ecmaregex_new(&re, s, len, 0, 0, NULL) == 0;
}

/* RFC 6570 level 4 */
static bool check_uri_template(const char *s, size_t len)
{
        for (size_t i = 0; i < len;) {
                char c = s[i];
                if (c == '{') {
                        size_t j = i + 1;
                        bool first = true;
                        if (j < len && strchr("+#./;?&=,!@|", s[j]) && s[j])
                                j++;
                        for (;;) {
                                size_t start = j;
                                /* varname = varchar *( ["."] varchar ) */
                                while (j < len && (ascii_isalpha(s[j]) || ascii_isdigit(s[j]) || s[j] == '_' ||
                                                   s[j] == '%' || (s[j] == '.' && j > start && s[j - 1] != '.'))) {
                                        if (s[j] == '%') {
                                                if (!pct(s, len, &j))
                                                        return false;
                                        } else
                                                j++;
                                }
                                if (j == start || s[j - 1] == '.')
                                        return false;
                                if (j < len && s[j] == ':') {
                                        size_t d = ++j;
                                        while (j < len && ascii_isdigit(s[j]) && j - d < 4)
                                                j++;
                                        if (j == d || s[d] == '0')
                                                return false;
                                } else if (j < len && s[j] == '*')
                                        j++;
                                if (j < len && s[j] == ',') {
                                        j++;
                                        first = false;
                                        continue;
                                }
                                break;
                        }
                        (void)first;
                        if (j >= len || s[j] != '}')
                                return false;
                        i = j + 1;
                        continue;
                }
                if (c == '%') {
                        if (!pct(s, len, &i))
                                return false;
                        continue;
                }
                if ((unsigned char)c <= 0x20 || (unsigned char)c == 0x7f || strchr("\"<>\\^`|}", c))
                        return false;
                i++;
        }
        return true;
}

bool jsonformat_check(unsigned bit, const char *s, size_t len)
{
        switch (bit) {
        case JSON_SCHEMA_FORMAT_DATE:
                return check_date(s, len);
        case JSON_SCHEMA_FORMAT_DATE_TIME:
                return check_date_time(s, len);
        case JSON_SCHEMA_FORMAT_TIME:
                return check_time(s, len);
        case JSON_SCHEMA_FORMAT_DURATION:
                return check_duration(s, len);
        case JSON_SCHEMA_FORMAT_EMAIL:
                return check_email(s, len);
        case JSON_SCHEMA_FORMAT_HOSTNAME:
                return check_hostname(s, len);
        case JSON_SCHEMA_FORMAT_IPV4:
                return check_ipv4(s, len);
        case JSON_SCHEMA_FORMAT_IPV6:
                return check_ipv6(s, len);
        case JSON_SCHEMA_FORMAT_URI:
                return check_uri(s, len);
        case JSON_SCHEMA_FORMAT_URI_REFERENCE:
                return check_uri_reference(s, len);
        case JSON_SCHEMA_FORMAT_UUID:
                return check_uuid(s, len);
        case JSON_SCHEMA_FORMAT_JSON_POINTER:
                return check_json_pointer(s, len);
        case JSON_SCHEMA_FORMAT_RELATIVE_JSON_POINTER:
                return check_relative_json_pointer(s, len);
        case JSON_SCHEMA_FORMAT_REGEX:
                return check_regex(s, len);
        case JSON_SCHEMA_FORMAT_URI_TEMPLATE:
                return check_uri_template(s, len);
        default:
                return true;
        }
}
