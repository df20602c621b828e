/* parse.h: the one decimal number parser (configuration, command lines, headers), and DNS names
 *
 * One meaning everywhere: the canonical decimal form, so that a number has
 * one spelling (as in the strict base64 of crypto/hash.h): ASCII digits only,
 * no sign, no white space, no base prefix, no empty string, and no leading
 * zero ("0" itself is fine, "007" is not). strtoull() is not used because it
 * accepts all of those.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * parse_u64(): the canonical decimal number `s`, which must lie in [min, max].
 * Return: 0 (*ret set), -EINVAL (not a decimal number), or -ERANGE (a number
 * outside [min, max], overflow included).
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * parse_digits(): the decimal digits at *s (a prefix), advancing *s past them,
 * for parsers of larger syntaxes ("30s", "4MiB"); leading zeros are the
 * caller's to refuse.
 * Return: the number of digits read (0: none, *ret = 0), or -ERANGE on overflow.
 */
int parse_digits(const char **s, uint64_t *ret);

/*
 * dns_name_valid(): the `n` bytes at `s` are a DNS host name: 1..253
 * characters, labels of 1..63 letters, digits and '-' (not first or last in
 * a label) separated by single dots, no dot first or last. An IPv4 address
 * passes too (its labels are digits).
 */
bool dns_name_valid(const char *s, size_t n);
