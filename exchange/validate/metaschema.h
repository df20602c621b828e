/* metaschema.h: the built-in JSON Schema meta-schemas (2020-12 with its vocabularies, draft-07) */
#pragma once

#include "util/macro.h"

typedef struct MetaSchema {
        const char *uri;  /* absolute, without fragment */
        const char *json; /* the document, NUL-terminated */
} MetaSchema;

/* The table ends with an entry whose uri is NULL. Static storage. */
extern const MetaSchema metaschemas[];

/*
 * metaschema_find(): the text of the built-in document at `uri` (absolute,
 * without fragment), or NULL. Return: static storage, never freed.
 */
const char *metaschema_find(const char *uri);
