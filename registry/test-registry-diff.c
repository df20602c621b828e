/* test-registry-diff.c: what a reload changed (registry_diff()), a registry's version, the monitor role */
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "registry.h"
#include "util/macro.h"
#include "util/strv.h"

/* A registry; the parts in `...` are what the cases below change. */
#define INSTANCE "[instance]\nid = VN\nname = Test\n"
#define MEMBER "[member VN/GOV/A]\nname = A\n"
#define PROVIDER "[subsystem VN/GOV/A/db]\nname = A db\nroles = provider\n"
#define CLIENT "[subsystem VN/GOV/A/app]\nname = A app\nroles = client\ntls-cn = VN/GOV/A/app\n"
#define SERVICE                                                                                    \
        "[service VN/GOV/A/db/people]\ntitle = People\nmethods = GET, POST\npaths = /, /items/*\n" \
        "personal-data = yes\nadapter = sample\n"
#define PURPOSE "[purpose p1]\ntitle = P1\n"
#define GROUP "[group g]\ntitle = G\nmembers = VN/GOV/A/app\n"
#define RIGHT "[right r]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/people\nmethods = GET\nbasis = consent\n"

static Registry *load(const char *a, const char *b)
{
        RegistryFile f[2] = { { .name = "a.conf", .text = a, .size = strlen(a) },
                              { .name = "b.conf", .text = b, .size = b ? strlen(b) : 0 } };
        Registry *r = NULL;
        char *errors = NULL;
        int k = registry_load_files(&r, f, b ? 2 : 1, &errors);

        if (k != 0)
                fprintf(stderr, "%s", strempty(errors));
        assert(k == 0 && r);
        return r;
}

static bool list_is(char **l, const char *want)
{
        char buf[512] = "";

        for (size_t i = 0; l && l[i]; i++) {
                if (i)
                        strcat(buf, " ");
                strcat(buf, l[i]);
        }
        return streq(buf, want);
}

static void test_same(void)
{
        /* the same definitions in other files, another order, keys reordered, comments: nothing changed */
        Registry *a = load(INSTANCE MEMBER PROVIDER CLIENT SERVICE PURPOSE GROUP RIGHT, NULL);
        Registry *b =
                load("# the people register\n" RIGHT GROUP PURPOSE,
                     "[subsystem VN/GOV/A/app]\ntls-cn = VN/GOV/A/app\nroles = client\nname = A app\n" SERVICE MEMBER
                             INSTANCE PROVIDER);
        RegistryDiff d;

        assert(registry_diff(a, b, &d) == 0);
        assert(d.n == 0);
        for (size_t k = 0; k < _REGISTRY_KIND_MAX; k++)
                assert(!d.kinds[k].added && !d.kinds[k].removed && !d.kinds[k].changed);
        registry_diff_done(&d);
        assert(registry_version(a) == registry_version(b));
        registry_unref(a);
        registry_unref(b);
}

static void test_changes(void)
{
        Registry *a = load(INSTANCE MEMBER PROVIDER CLIENT SERVICE PURPOSE GROUP RIGHT, NULL);
        Registry *b = load(INSTANCE MEMBER PROVIDER
                           "[subsystem VN/GOV/A/app]\nname = A app\nroles = client\ntls-cn = VN/GOV/A/app-2\n"
                           "[subsystem VN/GOV/A/ops]\nname = Ops\nroles = monitor\ntls-cn = VN/GOV/A/ops\n"
                           "[service VN/GOV/A/db/people]\ntitle = People\nmethods = GET, POST\npaths = /, /items/*\n"
                           "personal-data = yes\nadapter = sample\ntimeout = 5s\n"
                           "[service VN/GOV/A/db/cars]\ntitle = Cars\nmethods = GET\npersonal-data = no\n"
                           "adapter = rest\n" PURPOSE GROUP
                           "[right r2]\nclient = VN/GOV/A/app\nservice = VN/GOV/A/db/cars\nmethods = GET\n"
                           "basis = consent\n",
                           NULL);
        RegistryDiff d;

        assert(registry_diff(a, b, &d) == 0);
        assert(list_is(d.kinds[REGISTRY_KIND_SUBSYSTEM].added, "VN/GOV/A/ops"));
        assert(list_is(d.kinds[REGISTRY_KIND_SUBSYSTEM].changed, "VN/GOV/A/app"));
        assert(!d.kinds[REGISTRY_KIND_SUBSYSTEM].removed);
        assert(list_is(d.kinds[REGISTRY_KIND_SERVICE].added, "VN/GOV/A/db/cars"));
        assert(list_is(d.kinds[REGISTRY_KIND_SERVICE].changed, "VN/GOV/A/db/people"));
        assert(list_is(d.kinds[REGISTRY_KIND_RIGHT].added, "r2"));
        assert(list_is(d.kinds[REGISTRY_KIND_RIGHT].removed, "r"));
        for (size_t k = 0; k < _REGISTRY_KIND_MAX; k++)
                if (k != REGISTRY_KIND_SUBSYSTEM && k != REGISTRY_KIND_SERVICE && k != REGISTRY_KIND_RIGHT)
                        assert(!d.kinds[k].added && !d.kinds[k].removed && !d.kinds[k].changed);
        assert(d.n == 6);
        registry_diff_done(&d);
        assert(registry_version(a) != registry_version(b));

        /* the other way round */
        assert(registry_diff(b, a, &d) == 0);
        assert(list_is(d.kinds[REGISTRY_KIND_SUBSYSTEM].removed, "VN/GOV/A/ops"));
        assert(list_is(d.kinds[REGISTRY_KIND_RIGHT].added, "r") && list_is(d.kinds[REGISTRY_KIND_RIGHT].removed, "r2"));
        registry_diff_done(&d);
        registry_unref(a);
        registry_unref(b);

        /* the instance and a group's members */
        a = load(INSTANCE MEMBER PROVIDER CLIENT SERVICE PURPOSE GROUP RIGHT, NULL);
        b = load("[instance]\nid = VN\nname = Test 2\n" MEMBER PROVIDER CLIENT SERVICE PURPOSE
                 "[group g]\ntitle = G\nmembers = VN/GOV/A/app\n[group h]\ntitle = H\nmembers = VN/GOV/A/app\n" RIGHT,
                 NULL);
        assert(registry_diff(a, b, &d) == 0);
        assert(list_is(d.kinds[REGISTRY_KIND_INSTANCE].changed, "VN"));
        assert(list_is(d.kinds[REGISTRY_KIND_GROUP].added, "h") && d.n == 2);
        registry_diff_done(&d);
        registry_unref(a);
        registry_unref(b);
}

static void test_names(void)
{
        assert(streq(registry_kind_name(REGISTRY_KIND_INSTANCE), "instance"));
        assert(streq(registry_kind_name(REGISTRY_KIND_SUBSYSTEM), "subsystems"));
        assert(streq(registry_kind_name(REGISTRY_KIND_RIGHT), "rights"));
        assert(!registry_kind_name(_REGISTRY_KIND_MAX));
        assert(registry_role_from_string("monitor") == REGISTRY_ROLE_MONITOR);
        assert(registry_role_from_string("auditor") == REGISTRY_ROLE_AUDITOR);
        assert(registry_role_from_string("root") == 0);
}

int main(void)
{
        test_names();
        test_same();
        test_changes();
        printf("registry-diff: ok\n");
        return 0;
}
