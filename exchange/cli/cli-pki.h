/* cli-pki.h: `xbus pki`: certificates as a workflow (request, issue, list, revoke, crl, renew)
 *
 * The commands over crypto/pki-ca.h. The CA is a folder: by default the
 * demo PKI's, STATE/pki (--state; `xbus call` finds the client
 * certificates it issues there, under clients/), or one named with --ca,
 * with an organisation's CA certificate and key by path (--ca-cert,
 * --ca-key; the folder then keeps only the index and the CRL). `request`
 * is the client's side and needs no CA. Private keys are written 0600 and
 * never printed.
 *
 * Exit status: 0 done, 1 refused or failed, 2 usage error.
 */
#pragma once

#include "cli/cli-command.h"

/* --dns and --ip given at most this often each */
#define CLI_PKI_NAMES_MAX 16
/* --days and --crl-days: at most 10 years */
#define CLI_PKI_DAYS_MAX 3652
/* `list` marks what expires within this many days */
#define CLI_PKI_RENEW_DAYS 30

/* cli_pki_command: `xbus pki SUBCOMMAND [OPTIONS]` as one command of xbus; its help lists the subcommands. */
extern const CliCommand cli_pki_command;
