/* exchange-internal.h: what the pieces of node/exchange share: forwarding to another node (exchange-forward.c)
 *
 * An exchange whose provider another node of the federation hosts is
 * forwarded, and its answer taken: the hooks of node/exchange.c into
 * exchange/federation (docs/federation.md "Exchanges between nodes"). In a registry with [node] sections, the node
 * that hosts the service's provider subsystem answers it: this node when its
 * receipt key is that node's, another node otherwise. The client node has
 * already checked the client's identity, its right, legal basis, consent and
 * payload (exchange_decide()); it then signs a forward envelope and sends
 * the request to the provider's node (federation/forwarder.h), which checks
 * it all again under its own snapshot and answers with its receipt.
 */
#pragma once

#include "node/exchange.h"

/*
 * exchange_forward(): route an allowed exchange to the node that hosts its
 * provider, when that is another node. ex->bus comes back on `reply_to` as
 * a MailboxItem of `kind`, as from the broker.
 * Return: 0 the provider is hosted here (route it to the adapter), 1 answered
 * at once (ex->bus holds the error: no node hosts it, the node cannot
 * forward, the queue is full), 2 forwarded.
 */
int exchange_forward(Exchange *ex, Mailbox *reply_to, int kind);

/*
 * exchange_hosted_elsewhere(): whether another node of the federation hosts
 * the provider of the decided service. Consent is then decided by that node
 * (its consent store holds the records; an artefact verifies anywhere), so
 * this node does not check it (docs/federation.md "Consent across nodes").
 */
bool exchange_hosted_elsewhere(const Exchange *ex);

/*
 * exchange_check_client_hosted(): an exchange this node would forward (another node hosts its provider)
 * for a client that this node does not host (registry [node] subsystems) is refused here, with
 * client_not_hosted in ex->out.problem: the client must call its own node. The provider's node checks
 * it again (node_refused). Return: whether it is refused.
 */
bool exchange_check_client_hosted(Exchange *ex);

/* exchange_forward_answer(): the provider node's answer (ex->bus, no error) becomes the outcome. */
void exchange_forward_answer(Exchange *ex);

/* exchange_entry_fill(): ex->entry from the exchange as it stands (its strings borrowed from `ex`). */
void exchange_entry_fill(Exchange *ex);
