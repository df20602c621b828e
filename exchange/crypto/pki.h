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
 *   node-curve.key .pub          the adapter endpoint's CURVE key pair (Z85), pki_curve_ensure()
 *   adapters/<name>.key .pub     an adapter's CURVE key pair (the demo's: "sample"), pki_curve_ensure()
 *   issued.txt                   the index of the certificates issued here (node, clients), pki-ca.h
 *   ca.crl                       the CRL, once `xbus pki revoke` made one (pki-ca.h)
 *
 * The folder is a CA folder (pki-ca.h): `xbus pki` issues, revokes and renews
 * with the demo CA too, and holds the same lock while it does.
 */
#pragma once

#include <stddef.h>

/*
 * pki_demo_ensure(): create whatever of the layout is missing (never
 * overwrites an existing file); `clients` are subsystem ids that get client
 * certificates, `authorities` subsystem ids that get consent-artefact keys.
 *
 * Each file is written to a temporary file created with O_EXCL and its final
 * mode (keys 0600, certificates, .jwk and log.pub 0644), synced, and moved
 * into place without replacing anything. Folders are created 0700.
 * A missing public part (certificate, .jwk, log.pub) is made again from the
 * kept private key; a missing private key is generated only when its public
 * part is missing too. Otherwise:
 *   - node.key, signing.key or log.key missing while their public part
 *     exists: -ENOKEY (the node cannot run; remove both to start again);
 *   - clients/<name>.key or authorities/<name>.key missing: fine, the key
 *     may have been handed to its owner;
 *   - ca.key missing: fine until something must be issued, then -ENOKEY.
 * Existing private keys must be mode 0600 or stricter (-EPERM otherwise), as
 * must the folders (0700). Ids are 1..64 characters of [A-Za-z0-9-._/:], not
 * starting with '.' (-EINVAL); at most 10000 of each (-E2BIG); two ids that
 * map to one <name> are refused (-EINVAL), and so is an existing client
 * certificate whose CN is another id (-EEXIST).
 * Each certificate issued is recorded in issued.txt. The folder is locked
 * (flock) while this runs, against `xbus pki` and another call.
 * Return: 0 or -errno; on failure *ret_error (if ret_error is not NULL) gets
 * a malloc'd message naming the file; it is not written on success.
 */
int pki_demo_ensure(const char *dir, const char *const *clients, size_t n_clients, const char *const *authorities,
                    size_t n_authorities, char **ret_error);

/* pki_client_name(): "VN/GOV/X/y" -> "VN_GOV_X_y" into out (size bytes, truncated, always NUL-terminated). */
void pki_client_name(const char *subsystem_id, char *out, size_t size);

/*
 * pki_curve_ensure(): a ZeroMQ CURVE key pair as Z85 text, `dir`/NAME.key
 * (secret, 0600) and `dir`/NAME.pub (public, 0644), written as
 * pki_demo_ensure() writes files, unless NAME.pub exists already (nothing is
 * checked or replaced then); a NAME.key kept without its NAME.pub gets the
 * public half made again. `dir` is created 0700 when missing and refused
 * when group or others may access it. NAME as a client id, without '/'.
 * Return: 0 or -errno; on failure *ret_error (if not NULL) may get a
 * malloc'd message naming the file.
 */
int pki_curve_ensure(const char *dir, const char *name, char **ret_error);
