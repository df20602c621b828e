/* bytes.c: hex encoding and decoding, percent-decoding */
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

ssize_t percent_decode(const char *in, size_t n, char *out)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++, k++) {
                if (in[i] != '%') {
                        out[k] = in[i];
                        continue;
                }
                if (n - i < 3 || hex_digit(in[i + 1]) < 0 || hex_digit(in[i + 2]) < 0)
                        return -EINVAL;
                out[k] = (char)(hex_digit(in[i + 1]) << 4 | hex_digit(in[i + 2]));
                if (!out[k])
                        return -EINVAL;
                i += 2;
        }
        out[k] = 0;
        return (ssize_t)k;
}
