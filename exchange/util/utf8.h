/* utf8.h: UTF-8 as RFC 3629 defines it (shortest form, no surrogates, nothing above U+10FFFF)
 *
 * The one decoder behind every check of text that comes from outside: the
 * registry and config files (ini.c), checkpoint notes, log entries and what
 * the CLI prints to a terminal.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * utf8_decode(): the UTF-8 sequence at `s`, of which at most `n` bytes may
 * be read; its code point into *ret_cp when ret_cp is not NULL.
 * Return: its length (1..4), or 0 when `s` does not start with a valid
 * sequence (or n is 0).
 */
size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp);

/* utf8_valid(): whether the `n` bytes at `s` are all valid UTF-8 (NUL bytes included, as U+0000). */
bool utf8_valid(const char *s, size_t n);
