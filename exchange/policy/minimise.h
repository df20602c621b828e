/* minimise.h: data minimisation, the members of an answer an access right lets its client receive */
#pragma once

#include <jansson.h>

/*
 * minimise(): only the members of `doc` (a JSON object) that `fields` names
 * (a NULL-terminated list of JSON pointers, RFC 6901, to object members; a
 * selected array or object is kept whole; a pointer that selects nothing is
 * skipped), rendered compact in the provider's member order. The receipt and
 * the log then describe what was delivered.
 * Return: 0 with *ret (malloc'd text), -EINVAL (`doc` is not an object: the
 * answer must be withheld), -ENOMEM.
 */
int minimise(json_t *doc, char *const *fields, char **ret);

/* minimise_pointer_get(): the value at JSON pointer `ptr` (object members only) in `doc`, borrowed, or NULL. */
json_t *minimise_pointer_get(json_t *doc, const char *ptr);
