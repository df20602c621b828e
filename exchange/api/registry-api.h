/* registry-api.h: the node's registry snapshot ("/registry/snapshot"), behind the front door
 *
 *   GET /registry/snapshot   the signed snapshot the node's registry was loaded from, as it
 *                            came (application/jose: a compact JWS, docs/registry.md
 *                            "Snapshots"); not_found when the registry comes from a folder
 *                            ETag: "<version>-<16 hex of its SHA-256>"; a request whose
 *                            If-None-Match names it gets 304 and no body
 *
 * Open to any client, with or without a certificate: the snapshot is signed
 * by the registry authority, so a node (or a mirror) may fetch it from any
 * other node and verify it against its own anchors ([snapshot] url in
 * xbusd.conf). The handler has no state of its own: it answers from the
 * registry the request is decided under, so what it serves is always what
 * the node uses.
 */
#pragma once

#include "node/endpoint.h"

#define REGISTRY_API_PREFIX "/registry/"
#define REGISTRY_API_SNAPSHOT "/registry/snapshot"

/* registry_api_handle(): the EndpointHandler (no userdata). Return: 0 (resp filled) or -ENOMEM. */
int registry_api_handle(const EndpointRequest *req, EndpointResponse *resp);
