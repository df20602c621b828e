/* ndebug.c: must fail. Test code is built with -UNDEBUG (meson.build's test_c_args), so
 * its assert()s run even in a -Db_ndebug=true build; if that flag is ever lost this
 * test passes, and meson reports it as an unexpected pass. */
#include <assert.h>
#include <stdio.h>

int main(void)
{
        int checked = 0;

        assert(++checked == 0); /* runs (and aborts) only when assertions are on */
        printf("assertions are compiled out (checked=%d)\n", checked);
        return 0;
}
