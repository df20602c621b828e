/* main.c: xbus-adapter-rest, bus services answered by HTTP backends */
#include "rest/rest-forward.h"

int main(int argc, char **argv)
{
        return adapter_forward_main(&rest_forward_kind, argc, argv);
}
