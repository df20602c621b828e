/* embedded.h: data files compiled into the library (sample registry, schemas) */
#pragma once

#include <stddef.h>

typedef struct EmbeddedFile {
        const char *path; /* relative to the source root, e.g. "conf/registry/services.conf" */
        const char *data; /* NUL-terminated (the NUL is not counted in size) */
        size_t size;
} EmbeddedFile;

/* The table ends with an entry whose path is NULL. Static storage. */
extern const EmbeddedFile embedded_files[];

/*
 * embedded_find(): the embedded file at `path`, or NULL.
 * Return: a pointer into static storage (never freed).
 */
const EmbeddedFile *embedded_find(const char *path);
