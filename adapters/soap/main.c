/* main.c: xbus-adapter-soap, bus services answered by SOAP backends */
#include "soap/soap-forward.h"

int main(int argc, char **argv)
{
        return adapter_forward_main(&soap_forward_kind, argc, argv);
}
