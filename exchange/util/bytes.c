/* bytes.c: hex encoding and decoding */
#include <errno.h>

#include "util/bytes.h"

void hex_encode(const uint8_t *in, size_t size, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < size; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 0xf];
        }
        out[2 * size] = '\0';
}

int hex_decode(const char *in, uint8_t *out, size_t size)
{
        for (size_t i = 0; i < 2 * size; i++)
                if (hex_digit(in[i]) < 0)
                        return -EINVAL;
        for (size_t i = 0; i < size; i++)
                out[i] = (uint8_t)(hex_digit(in[2 * i]) << 4 | hex_digit(in[2 * i + 1]));
        return 0;
}
