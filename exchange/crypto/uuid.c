/* uuid.c: random UUIDs */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "crypto/uuid.h"
#include "util/macro.h"

void uuid_random(char out[UUID_STRING_LEN + 1])
{
        uint8_t b[16];

        if (RAND_bytes(b, sizeof(b)) != 1) {
                /* the DRBG failed (it does not, once seeded): still unique, from the clocks */
                struct timespec r, m;
                clock_gettime(CLOCK_REALTIME, &r);
                clock_gettime(CLOCK_MONOTONIC, &m);
                memcpy(b, &r, MIN(sizeof(r), 8));
                memcpy(b + 8, &m, MIN(sizeof(m), 8));
        }
        b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 9562 variant */
        snprintf(out, UUID_STRING_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}
