/* ecmaregex.h: ECMA-262 regular expressions (JSON Schema `pattern`) on PCRE2 */
#pragma once

/*
 * JSON Schema patterns are ECMA-262 regular expressions with the "u" flag.
 * PCRE2 is close but not equal, so a pattern is first checked against the
 * ECMA grammar and translated:
 *  - `\d \w \b` stay ASCII (PCRE2 without UCP, as in ECMA);
 *  - `\s \S` become ECMA's set (ASCII space characters, NBSP, the Unicode
 *    space separators, LS, PS and the BOM);
 *  - `.` excludes only \n \r U+2028 U+2029; `$` matches only at the end;
 *  - `\uXXXX` (surrogate pairs joined), `\u{...}`, `\xHH`, `\cX`, `\0`, `\v`
 *    are turned into PCRE2 code points; `[^]` matches any character;
 *  - a backreference to a group that did not take part matches empty;
 *  - PCRE2-only syntax (`\A \Z \z \K \R \Q`, possessive quantifiers,
 *    atomic groups, inline flags, recursion, POSIX classes ...) and the
 *    forms ECMA's "u" mode forbids (lone `{ } ]`, unknown escapes) are
 *    refused.
 * Not covered: lone surrogates (UTF-8 cannot hold them) and variable-length
 * lookbehind (PCRE2 10.42 refuses it at compile time).
 *
 * Matching is unanchored search, bounded by a match limit, a backtracking
 * depth limit and a heap limit; patterns are JIT-compiled when PCRE2 has a
 * JIT. A compiled EcmaRegex is immutable and can be used by many threads at
 * once: each thread has its own PCRE2 match block (thread-local, freed when
 * the thread exits).
 */

#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

typedef struct EcmaRegex EcmaRegex;

/*
 * ecmaregex_translate(): the PCRE2 pattern for the ECMA-262 `pattern`
 * (`len` bytes of valid UTF-8). *ret is malloc()ed (caller frees).
 * Return: 0; -EINVAL (not ECMA syntax) or -EOPNOTSUPP (not expressible in
 * PCRE2), with a malloc()ed reason in *ret_error when it is not NULL; -ENOMEM.
 */
int ecmaregex_translate(const char *pattern, size_t len, char **ret, char **ret_error);

/*
 * ecmaregex_new(): translate and compile. match_limit/depth_limit are the
 * PCRE2 limits per search (0 = 100000 / 1000).
 * Return: 0 and *ret (free with ecmaregex_free()); errors as
 * ecmaregex_translate(), also -EINVAL when PCRE2 refuses the translation.
 */
int ecmaregex_new(EcmaRegex **ret, const char *pattern, size_t len, uint32_t match_limit, uint32_t depth_limit,
                  char **ret_error);

/* ecmaregex_free(): NULL in, NULL out. */
EcmaRegex *ecmaregex_free(EcmaRegex *re);
DEFINE_TRIVIAL_CLEANUP_FUNC(EcmaRegex *, ecmaregex_free);

/*
 * ecmaregex_search(): whether `re` matches anywhere in `subject` (`len`
 * bytes of UTF-8). Thread-safe, no allocation after the first call on a
 * thread.
 * Return: 1 match, 0 no match; -ETIME when a match limit was hit, -EINVAL
 * for invalid UTF-8, -ENOMEM.
 */
int ecmaregex_search(const EcmaRegex *re, const char *subject, size_t len);
