/* fuzz-registry.c: the registry loader (INI parser and every check) on one arbitrary file */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        RegistryFile f = { .name = "fuzz.conf", .text = (const char *)data, .size = size };
        Registry *r = NULL;
        char *errors = NULL;
        int k;

        k = registry_load_files(&r, &f, 1, &errors);
        if (k == 0) {
                /* Exercise the lookups on whatever loaded. */
                const RegistrySubsystem *const *subsystems;
                const RegistryService *const *services;
                size_t n_sub = registry_subsystems(r, &subsystems);
                size_t n_svc = registry_services(r, &services);

                /* Bounded: a large input must not turn into a quadratic run. */
                for (size_t i = 0; i < n_sub && i < 32; i++)
                        for (size_t j = 0; j < n_svc && j < 32; j++) {
                                const RegistryRight *right = NULL;
                                if (registry_authorize(r, subsystems[i], services[j], REGISTRY_METHOD_GET, "/a/b",
                                                       &right) == 0)
                                        (void)registry_right_allows_purpose(right, "audit");
                        }
                if (errors)
                        abort(); /* errors are only returned on REGISTRY_E_INVALID */
        } else if (k == REGISTRY_E_INVALID) {
                if (!errors || !*errors)
                        abort(); /* an invalid registry always says why */
        } else if (k != -ENOMEM)
                abort();
        free(errors);
        registry_unref(r);
        return 0;
}
