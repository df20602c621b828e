/* fuzz-audit-bundle.c: offline verification of proof bundles (xbus audit verify-proof) on hostile input */
#include <stdint.h>
#include <stdlib.h>

#include "audit/audit-verify.h"
#include "log/checkpoint.h"

/* The verifier key of the node that made the seed bundles, so that seeds reach the proof checks. */
#define SEED_VKEY "xbus.local+fc4117f4+AYxDJ6metU9tczWv+CYsqanS78D1qudiy+avCQN1hijR"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static CheckpointVerifier *v;
        AuditReport rep;

        if (!v && checkpoint_verifier_from_vkey(&v, SEED_VKEY) != 0)
                abort();
        audit_report_init(&rep);
        (void)audit_verify_bundle((const char *)data, size,
                                  &(AuditBundleOptions){ .verifier = v, .require_receipt = false }, &rep);
        audit_report_done(&rep);
        return 0;
}
