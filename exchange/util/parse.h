/* parse.h: the one decimal number parser (configuration, command lines, headers)
 *
 * One meaning everywhere: plain ASCII digits only. No sign, no leading or
 * trailing white space, no base prefix, no empty string; leading zeros are
 * allowed. strtoull() is not used because it accepts all of those.
 */
#pragma once

#include <stdint.h>

/*
 * parse_u64(): the decimal number `s`, which must lie in [min, max].
 * Return: 0 (*ret set), -EINVAL (not a decimal number), or -ERANGE (a number
 * outside [min, max], overflow included).
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/*
 * parse_digits(): the decimal digits at *s (a prefix), advancing *s past them,
 * for parsers of larger syntaxes ("30s", "4MiB").
 * Return: the number of digits read (0: none, *ret = 0), or -ERANGE on overflow.
 */
int parse_digits(const char **s, uint64_t *ret);
