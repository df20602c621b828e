/* fileio.h: reading a whole file of bounded size (configuration, schemas, keys given as @FILE) */
#pragma once

#include <stddef.h>

/*
 * read_full_file(): read a whole file of at most `max_size` bytes into a
 * malloc'd, NUL-terminated buffer (owned by the caller). A pipe or a device
 * is read to its end; a file that grows past `max_size` while it is read is
 * refused too. Return: 0, -EFBIG when larger than max_size, -EISDIR, or
 * -errno from open/read.
 */
int read_full_file(const char *path, size_t max_size, char **ret_text, size_t *ret_size);
