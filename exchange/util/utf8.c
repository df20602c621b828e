/* utf8.c: UTF-8 decoding */
#include "util/utf8.h"

size_t utf8_decode(const char *s, size_t n, uint32_t *ret_cp)
{
        const unsigned char *u = (const unsigned char *)s;
        uint32_t cp, min;
        size_t len;

        if (n == 0)
                return 0;
        if (u[0] < 0x80)
                len = 1, cp = u[0], min = 0;
        else if ((u[0] & 0xe0) == 0xc0)
                len = 2, cp = u[0] & 0x1f, min = 0x80;
        else if ((u[0] & 0xf0) == 0xe0)
                len = 3, cp = u[0] & 0x0f, min = 0x800;
        else if ((u[0] & 0xf8) == 0xf0)
                len = 4, cp = u[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((u[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (u[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        if (ret_cp)
                *ret_cp = cp;
        return len;
}

bool utf8_valid(const char *s, size_t n)
{
        for (size_t i = 0, l; i < n; i += l) {
                l = utf8_decode(s + i, n - i, NULL);
                if (l == 0)
                        return false;
        }
        return true;
}
