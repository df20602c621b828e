/* receipt.c: the X-Bus-Receipt payload and its ES256 signature */
#include <errno.h>
#include <stdint.h>

#include <jansson.h>

#include "crypto/receipt.h"
#include "util/macro.h"

#define RECEIPT_TYP "xbus-receipt+jws"
/* Every field comes from the bus itself, but the ids echo client headers: bound them. */
#define RECEIPT_FIELD_MAX KIB(1)

static int add_string(json_t *o, const char *key, const char *value, bool required)
{
        json_t *v;

        if (!value)
                return required ? -EINVAL : 0;
        if (strlen(value) > RECEIPT_FIELD_MAX)
                return -EINVAL;

        /* json_string() refuses invalid UTF-8 */
        v = json_string(value);
        if (!v)
                return -EINVAL;
        if (json_object_set_new(o, key, v) < 0)
                return -ENOMEM;
        return 0;
}

int receipt_payload(const Receipt *r, char **ret)
{
        _cleanup_(json_decrefp) json_t *o = NULL;
        char *s;
        int k;

        if (r->seq > INT64_MAX)
                return -EINVAL;

        o = json_object();
        if (!o)
                return -ENOMEM;
        if (json_object_set_new(o, "seq", json_integer((json_int_t)r->seq)) < 0)
                return -ENOMEM;

        /* Insertion order is the order of the keys in the payload. */
        if ((k = add_string(o, "time", r->time, true)) < 0 || (k = add_string(o, "xroad_id", r->xroad_id, true)) < 0 ||
            (k = add_string(o, "client", r->client, true)) < 0 ||
            (k = add_string(o, "service", r->service, true)) < 0 ||
            (k = add_string(o, "request_hash", r->request_hash, true)) < 0 ||
            (k = add_string(o, "response_hash", r->response_hash, true)) < 0 ||
            (k = add_string(o, "subject", r->subject, false)) < 0 ||
            (k = add_string(o, "purpose", r->purpose, false)) < 0 ||
            (k = add_string(o, "basis", r->basis, false)) < 0 ||
            (k = add_string(o, "xroad_request_hash", r->xroad_request_hash, false)) < 0 ||
            (k = add_string(o, "request_id", r->request_id, false)) < 0)
                return k;

        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int receipt_sign(const Signer *s, const Receipt *r, char **ret)
{
        _cleanup_free_ char *payload = NULL;
        int k;

        k = receipt_payload(r, &payload);
        if (k < 0)
                return k;
        return signer_sign_compact(s, RECEIPT_TYP, payload, strlen(payload), ret);
}
