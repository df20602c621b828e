/* cli-target.h: SERVICE[/path][?query] as the operator types it, and the /r1 URL it becomes
 *
 * `xbus call` names what it asks for the way the registry does:
 *
 *   VN/GOV/BCA/population/citizen                      a service
 *   VN/GOV/BKHDT/business-registry/enterprise/0100000001  a service and a path
 *   VN/GOV/BTC/tax/tax-status?year=2025                a service and a query
 *
 * The first five segments are the service id (INSTANCE/CLASS/MEMBER/
 * SUBSYSTEM/SERVICE); whatever follows is the path, the part after the first
 * '?' the query. cli_target_url() joins them to the node's base URL as
 * `BASE/r1/SERVICE[/path][?query]`, percent-encoding what a URL cannot carry
 * as typed (a "%XX" already in the path or query is kept as it is).
 */
#pragma once

#include <stddef.h>

/* Longest SERVICE[/path][?query] accepted (the node refuses queries over 2 KiB anyway). */
#define CLI_TARGET_MAX 4096
/* Segments of a service id. */
#define CLI_TARGET_SERVICE_SEGMENTS 5

typedef struct CliTarget {
        char *service; /* "VN/GOV/BCA/population/citizen" */
        char *path;    /* "" or "/..." */
        char *query;   /* "" or the text after '?' (without it) */
} CliTarget;

/*
 * cli_target_parse(): split `text` into *ret (fields malloc'd; release with
 * cli_target_done()). Refused: NULL or empty text, more than CLI_TARGET_MAX
 * bytes, control characters, a '#', fewer than five non-empty service
 * segments, an empty segment inside the service id.
 * *ret is written only on success.
 * Return: 0, -EINVAL (refused; *ret_reason, if given, a static reason), -ENOMEM.
 */
int cli_target_parse(const char *text, CliTarget *ret, const char **ret_reason);

/* cli_target_done(): free the fields and zero *t. */
void cli_target_done(CliTarget *t);

/*
 * cli_target_url(): "BASE/r1/SERVICE[/path][?query]" with the service
 * segments, path and query percent-encoded as needed. A trailing '/' of
 * `base_url` is dropped. Return: 0 with *ret (malloc'd), -EINVAL (base_url
 * not http:// or https://), -ENOMEM.
 */
int cli_target_url(const char *base_url, const CliTarget *t, char **ret);
