/* console-internal.h: what the pieces of the console (console.c, console-citizen.c) share */
#pragma once

#include "api/console.h"

static inline ConsoleApi *console_api(const EndpointRequest *req)
{
        return req->userdata;
}

/* console_citizen(): the citizen's calls, `sub` after "/ui/api/citizen/"; `s` is a citizen session. Return: 0 or -errno. */
int console_citizen(const EndpointRequest *req, EndpointResponse *resp, const ConsoleSession *s, const char *sub);

/* console_audit_export(): GET /ui/api/audit/export: the log up to its latest checkpoint as an export file. */
int console_audit_export(const EndpointRequest *req, EndpointResponse *resp);
