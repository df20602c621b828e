/* pki.h: the demo PKI, generated at first start under the state folder
 *
 * Layout of `dir` (keys mode 0600, folder 0700):
 *   ca.crt ca.key                demo CA (EC P-256, 10 years)
 *   node.crt node.key            node TLS server cert (SAN localhost, 127.0.0.1, ::1)
 *   signing.key signing.jwk      node receipt key (ES256) and its public JWK
 *   log.key log.pub              log checkpoint key (Ed25519), PEM
 *   pseudonym.key                32 random bytes (hex) for subject pseudonyms
 *   clients/<name>.crt .key      one client cert per subsystem, CN = subsystem id,
 *                                <name> = the id with '/' replaced by '_'
 *   authorities/<name>.key .jwk  an ES256 consent-artefact key per consent authority
 */
#pragma once

#include <stddef.h>

/*
 * pki_demo_ensure(): create whatever of the layout is missing (never
 * overwrites an existing file); `clients` are subsystem ids that get client
 * certificates, `authorities` subsystem ids that get consent-artefact keys.
 * Return: 0 or -errno (*ret_error, if set, a malloc'd message naming the file).
 */
int pki_demo_ensure(const char *dir, const char *const *clients, size_t n_clients,
                    const char *const *authorities, size_t n_authorities, char **ret_error);

/* pki_client_name(): "VN/GOV/X/y" -> "VN_GOV_X_y" into out (size bytes). */
void pki_client_name(const char *subsystem_id, char *out, size_t size);
