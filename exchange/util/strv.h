/* strv.h: NULL-terminated string vectors (char **), owned with every string in them */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* strv_free(): free every string and the vector. NULL in, NULL out. */
char **strv_free(char **l);
static inline void strv_freep(char ***l)
{
        strv_free(*l);
}

/* strv_free_n(): free the first `n` strings of `l` (not NULL-terminated) and the array. */
void strv_free_n(char **l, size_t n);

/* strv_copy(): a deep copy of `l` (NULL: an empty vector), or NULL when out of memory. */
char **strv_copy(char *const *l);

/* strv_length(): the number of strings (0 for NULL). */
size_t strv_length(char *const *l);

/* strv_contains(): whether `s` is one of the strings (false for NULL). */
bool strv_contains(char *const *l, const char *s);

/* strv_extend(): append a copy of `s` to *l (NULL: a new vector). Return: 0, or -ENOMEM (*l unchanged). */
int strv_extend(char ***l, const char *s);
