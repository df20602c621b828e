/* uuid.h: random UUIDs (version 4, RFC 9562) for exchange ids */
#pragma once

#define UUID_STRING_LEN 36

/* uuid_random(): a random UUID v4, lower-case, NUL-terminated, from OpenSSL's DRBG. */
void uuid_random(char out[UUID_STRING_LEN + 1]);
