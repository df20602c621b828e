/* jsonformat.h: checkers for the JSON Schema `format` values this bus can assert */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * jsonformat_from_name(): the JsonSchemaFormat bit (see jsonschema.h) for a
 * format name, or 0 for a name without a checker here.
 */
unsigned jsonformat_from_name(const char *name);

/*
 * jsonformat_check(): whether `s` (`len` bytes of UTF-8, not necessarily
 * NUL-terminated) is a valid value of the format `bit`. The grammars are
 * RFC 3339 (date, date-time, time, duration from its appendix A), RFC 5321
 * mailbox (email), RFC 1123 host names, RFC 791/4291 text forms (ipv4 and
 * ipv6, no zone ids), RFC 3986 (uri, uri-reference), RFC 4122 text form
 * (uuid), RFC 6901 and the relative JSON pointer draft, ECMA-262 regex and
 * RFC 6570 (uri-template). Every check is linear in `len` and allocates
 * nothing except `regex`, which compiles the pattern. Thread-safe.
 *
 * Return: true when valid; an unknown `bit` is always valid.
 */
bool jsonformat_check(unsigned bit, const char *s, size_t len);
