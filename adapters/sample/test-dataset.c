/* test-dataset.c: the generated population: ids, determinism, cross-database consistency */
#include <assert.h>
#include <ftw.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>
#include <lmdb.h>

#include "sample/dataset-internal.h"

#define PEOPLE 10000
#define SEED 77

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static void rm_rf(const char *dir)
{
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmpdir(void)
{
        char *t = strdup("/tmp/xbus-test-dataset-XXXXXX");

        assert(t && mkdtemp(t));
        return t;
}

static json_t *get_json(DatasetReader *r, DatasetDb db, const char *key)
{
        char *doc = NULL;
        json_t *j;
        json_error_t err;
        int e;

        e = dataset_get(r, db, key, &doc, NULL);
        if (e == -ENOENT)
                return NULL;
        assert(e == 0);
        j = json_loads(doc, JSON_REJECT_DUPLICATES, &err);
        if (!j) {
                fprintf(stderr, "%s/%s: %s: %s\n", dataset_db_name(db), key, err.text, doc);
                abort();
        }
        free(doc);
        return j;
}

static const char *jstr(json_t *j, const char *k)
{
        return json_string_value(json_object_get(j, k));
}

static bool all_digits(const char *s, size_t n)
{
        if (!s || strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

static void test_ids(void)
{
        char id[DATASET_ID_LEN + 1], **ids;
        unsigned nguyen = 0;

        /* person 0, the demo citizen, has the same id for every seed */
        for (uint64_t seed = 0; seed < 5; seed++) {
                assert(dataset_person_id(seed, 0, id) == 0);
                assert(streq(id, "001090000001"));
        }
        assert(dataset_person_id(SEED, DATASET_MAX_PEOPLE, id) == -ERANGE);
        assert(dataset_person_id(SEED, DATASET_MAX_PEOPLE - 1, id) == 0);

        /* well-formed and unique */
        ids = calloc(PEOPLE, sizeof(char *));
        for (uint64_t i = 0; i < PEOPLE; i++) {
                unsigned code, sexc, yy;

                assert(dataset_person_id(SEED, i, id) == 0);
                assert(all_digits(id, DATASET_ID_LEN));
                assert(sscanf(id, "%3u%1u%2u", &code, &sexc, &yy) == 3);
                assert(code >= 1 && code <= 96);
                assert(sexc <= 3);
                if (sexc >= 2)
                        assert(yy <= 25); /* born 2000..2025 */
                ids[i] = strdup(id);
        }
        qsort(ids, PEOPLE, sizeof(char *), (int (*)(const void *, const void *))strcmp);
        for (size_t i = 1; i < PEOPLE; i++)
                assert(!streq(ids[i - 1], ids[i]));
        for (size_t i = 0; i < PEOPLE; i++)
                free(ids[i]);
        free(ids);

        /* a different seed gives different people (apart from the demo id) */
        {
                char a[DATASET_ID_LEN + 1], b[DATASET_ID_LEN + 1];
                unsigned same = 0;

                for (uint64_t i = 1; i < 1000; i++) {
                        dataset_person_id(SEED, i, a);
                        dataset_person_id(SEED + 1, i, b);
                        same += streq(a, b);
                }
                assert(same < 50);
        }
        (void)nguyen;
        printf("ids: %d unique, well-formed\n", PEOPLE);
}

/* Every record of every database is byte-identical between two environments. */
static void compare_envs(const char *dir_a, const char *dir_b)
{
        MDB_env *env[2];
        MDB_txn *txn[2];
        const char *dirs[2] = { dir_a, dir_b };
        char path[512];
        size_t records = 0;

        for (int e = 0; e < 2; e++) {
                snprintf(path, sizeof(path), "%s/sample.mdb", dirs[e]);
                assert(mdb_env_create(&env[e]) == 0);
                assert(mdb_env_set_maxdbs(env[e], 32) == 0);
                assert(mdb_env_open(env[e], path, MDB_RDONLY, 0) == 0);
                assert(mdb_txn_begin(env[e], NULL, MDB_RDONLY, &txn[e]) == 0);
        }
        for (int d = 0; d < _DATASET_DB_MAX; d++) {
                MDB_dbi dbi[2];
                MDB_cursor *c[2];
                MDB_val k[2], v[2];
                int rc[2];

                for (int e = 0; e < 2; e++) {
                        assert(mdb_dbi_open(txn[e], dataset_db_name(d), 0, &dbi[e]) == 0);
                        assert(mdb_cursor_open(txn[e], dbi[e], &c[e]) == 0);
                        rc[e] = mdb_cursor_get(c[e], &k[e], &v[e], MDB_FIRST);
                }
                for (;;) {
                        assert(rc[0] == rc[1]);
                        if (rc[0] != 0)
                                break;
                        assert(k[0].mv_size == k[1].mv_size && memcmp(k[0].mv_data, k[1].mv_data, k[0].mv_size) == 0);
                        assert(v[0].mv_size == v[1].mv_size && memcmp(v[0].mv_data, v[1].mv_data, v[0].mv_size) == 0);
                        records++;
                        for (int e = 0; e < 2; e++)
                                rc[e] = mdb_cursor_get(c[e], &k[e], &v[e], MDB_NEXT);
                }
                for (int e = 0; e < 2; e++)
                        mdb_cursor_close(c[e]);
        }
        for (int e = 0; e < 2; e++) {
                mdb_txn_abort(txn[e]);
                mdb_env_close(env[e]);
        }
        printf("determinism: %zu records identical\n", records);
        assert(records > (size_t)PEOPLE * 10);
}

static bool before_or_on_reference(const char *date)
{
        return date && strlen(date) == 10 && strcmp(date, DATASET_REFERENCE_DATE) <= 0;
}

static size_t first_word_len(const char *s)
{
        const char *sp = strchr(s, ' ');
        return sp ? (size_t)(sp - s) : strlen(s);
}

/* assert() with the person's id, for a readable failure */
#define CHECK(c)                                                                                      \
        do {                                                                                          \
                if (!(c)) {                                                                           \
                        fprintf(stderr, "person %s: check failed: %s (line %d)\n", id, #c, __LINE__); \
                        abort();                                                                      \
                }                                                                                     \
        } while (0)

static void check_person(DatasetReader *r, uint64_t i, uint64_t seed, unsigned *stats)
{
        char id[DATASET_ID_LEN + 1];
        json_t *pop, *birth, *mar, *land, *ebo, *si, *cs, *tax, *crim, *lic, *hi, *dip, *sp;
        const char *name, *sex, *bdate;
        unsigned sexc;

        CHECK(dataset_person_id(seed, i, id) == 0);
        pop = get_json(r, DATASET_DB_POPULATION, id);
        CHECK(pop);
        CHECK(streq(jstr(pop, "id"), id));
        name = jstr(pop, "full_name");
        sex = jstr(pop, "sex");
        bdate = jstr(pop, "birth_date");
        CHECK(name && sex && bdate);
        CHECK(before_or_on_reference(bdate));
        /* id digits agree with sex and birth year */
        sexc = (unsigned)(id[3] - '0');
        CHECK((sexc % 2 == 1) == streq(sex, "female"));
        CHECK((sexc >= 2) == (bdate[0] == '2'));
        CHECK(id[4] == bdate[2] && id[5] == bdate[3]);
        CHECK(json_is_object(json_object_get(pop, "permanent_address")));
        CHECK(all_digits(jstr(pop, "household_id"), 12));
        if (i == 0)
                CHECK(streq(name, "Nguyễn Văn An") && streq(sex, "male") && strneq(bdate, "1990", 4));
        if (strneq(name, "Nguyễn ", strlen("Nguyễn ")))
                stats[0]++;
        stats[1] += streq(sex, "female");

        /* birth record: parents that exist are consistent */
        birth = get_json(r, DATASET_DB_BIRTH_RECORD, id);
        CHECK(birth);
        CHECK(streq(jstr(birth, "full_name"), name));
        CHECK(streq(jstr(birth, "birth_date"), bdate));
        for (int k = 0; k < 2; k++) {
                json_t *parent = json_object_get(birth, k == 0 ? "father" : "mother");
                const char *pid = jstr(parent, "id"), *pname = jstr(parent, "full_name");
                json_t *ppop;

                CHECK(pname);
                if (k == 0)
                        CHECK(first_word_len(pname) == first_word_len(name) &&
                              strneq(pname, name, first_word_len(name)));
                if (!pid)
                        continue;
                stats[2]++;
                ppop = get_json(r, DATASET_DB_POPULATION, pid);
                CHECK(ppop);
                CHECK(streq(jstr(ppop, "full_name"), pname));
                CHECK(streq(jstr(ppop, "sex"), k == 0 ? "male" : "female"));
                CHECK(atoi(jstr(ppop, "birth_date")) + 15 <= atoi(bdate));
                CHECK(streq(jstr(ppop, "household_id"), jstr(pop, "household_id")));
                json_decref(ppop);
        }

        /* marital status: spouses point at each other */
        mar = get_json(r, DATASET_DB_MARITAL_STATUS, id);
        CHECK(mar);
        if (streq(jstr(mar, "status"), "married")) {
                const char *sid = jstr(mar, "spouse_id");
                CHECK(jstr(mar, "spouse_name"));
                CHECK(before_or_on_reference(jstr(mar, "since")));
                if (sid) {
                        json_t *smar = get_json(r, DATASET_DB_MARITAL_STATUS, sid);
                        json_t *spop = get_json(r, DATASET_DB_POPULATION, sid);

                        CHECK(smar && spop);
                        CHECK(streq(jstr(smar, "status"), "married"));
                        CHECK(streq(jstr(smar, "spouse_id"), id));
                        CHECK(streq(jstr(smar, "spouse_name"), name));
                        CHECK(streq(jstr(smar, "since"), jstr(mar, "since")));
                        CHECK(streq(jstr(spop, "full_name"), jstr(mar, "spouse_name")));
                        CHECK(!streq(jstr(spop, "sex"), sex));
                        CHECK(streq(jstr(spop, "household_id"), jstr(pop, "household_id")));
                        /* married at 18 or later */
                        CHECK(atoi(jstr(mar, "since")) - atoi(bdate) >= 18);
                        json_decref(smar);
                        json_decref(spop);
                        stats[3]++;
                }
        } else {
                CHECK(json_is_null(json_object_get(mar, "spouse_id")));
                if (!streq(jstr(mar, "status"), "single"))
                        CHECK(before_or_on_reference(jstr(mar, "since")));
        }

        /* land: every owner of a parcel lists the same parcel */
        land = get_json(r, DATASET_DB_LAND_PARCELS, id);
        CHECK(land);
        for (size_t p = 0; p < json_array_size(json_object_get(land, "parcels")); p++) {
                json_t *parcel = json_array_get(json_object_get(land, "parcels"), p);
                json_t *owners = json_object_get(parcel, "owners");
                bool self = false;

                for (size_t o = 0; o < json_array_size(owners); o++) {
                        const char *oid = json_string_value(json_array_get(owners, o));
                        json_t *oland;
                        bool found = false;

                        self |= streq(oid, id);
                        oland = get_json(r, DATASET_DB_LAND_PARCELS, oid);
                        CHECK(oland);
                        for (size_t q = 0; q < json_array_size(json_object_get(oland, "parcels")); q++)
                                found |= json_equal(json_array_get(json_object_get(oland, "parcels"), q), parcel);
                        CHECK(found);
                        json_decref(oland);
                }
                CHECK(self);
                stats[4]++;
        }

        /* enterprises: the representative's name is the owner's */
        ebo = get_json(r, DATASET_DB_ENTERPRISES_BY_OWNER, id);
        CHECK(ebo);
        for (size_t e = 0; e < json_array_size(json_object_get(ebo, "enterprises")); e++) {
                json_t *item = json_array_get(json_object_get(ebo, "enterprises"), e);
                json_t *ent = get_json(r, DATASET_DB_ENTERPRISE, jstr(item, "code"));

                CHECK(all_digits(jstr(item, "code"), DATASET_ENTERPRISE_CODE_LEN));
                CHECK(ent);
                CHECK(streq(jstr(ent, "name"), jstr(item, "name")));
                CHECK(streq(jstr(ent, "status"), jstr(item, "status")));
                CHECK(streq(jstr(json_object_get(ent, "legal_representative"), "full_name"), name));
                json_decref(ent);
                stats[5]++;
        }

        /* civil servants: insured at their agency now, with a degree */
        si = get_json(r, DATASET_DB_SOCIAL_INSURANCE, id);
        CHECK(si);
        CHECK(all_digits(jstr(si, "book_number"), 10));
        cs = get_json(r, DATASET_DB_CIVIL_SERVANTS, id);
        dip = get_json(r, DATASET_DB_DIPLOMAS, id);
        CHECK(dip);
        if (cs) {
                json_t *periods = json_object_get(si, "periods");
                json_t *last = json_array_get(periods, json_array_size(periods) - 1);
                bool bachelor = false;

                CHECK(last);
                CHECK(streq(jstr(last, "employer"), jstr(cs, "agency")));
                CHECK(json_is_null(json_object_get(last, "to")));
                CHECK(strneq(jstr(last, "from"), jstr(cs, "since"), 7));
                for (size_t d = 0; d < json_array_size(json_object_get(dip, "diplomas")); d++)
                        bachelor |=
                                streq(jstr(json_array_get(json_object_get(dip, "diplomas"), d), "level"), "bachelor");
                CHECK(bachelor);
                /* officials do not run enterprises */
                CHECK(json_array_size(json_object_get(ebo, "enterprises")) == 0);
                stats[6]++;
        }
        for (size_t p = 0; p < json_array_size(json_object_get(si, "periods")); p++) {
                json_t *per = json_array_get(json_object_get(si, "periods"), p);
                const char *to = jstr(per, "to");
                CHECK(strcmp(jstr(per, "from"), "2025-07") <= 0);
                CHECK(!to || strcmp(jstr(per, "from"), to) <= 0);
        }

        /* tax: the personal id is the tax code */
        tax = get_json(r, DATASET_DB_TAX, id);
        CHECK(tax);
        CHECK(streq(jstr(tax, "tax_code"), id));
        CHECK(!jstr(tax, "legacy_tax_code") || all_digits(jstr(tax, "legacy_tax_code"), 10));

        crim = get_json(r, DATASET_DB_CRIMINAL_RECORD, id);
        CHECK(crim);
        CHECK(json_is_true(json_object_get(crim, "has_convictions")) ==
              (json_array_size(json_object_get(crim, "convictions")) > 0));
        stats[7] += json_is_true(json_object_get(crim, "has_convictions"));

        /* licences for adults only */
        lic = get_json(r, DATASET_DB_DRIVING_LICENCES, id);
        if (lic) {
                CHECK(strcmp(bdate, "2007-07-01") <= 0);
                CHECK(all_digits(jstr(lic, "licence_number"), 12));
                CHECK(before_or_on_reference(jstr(lic, "issued")));
                stats[8]++;
        }

        /* the health card number ends with the social insurance code */
        hi = get_json(r, DATASET_DB_HEALTH_INSURANCE, id);
        if (hi) {
                const char *card = jstr(hi, "card_number");
                CHECK(card && strlen(card) == 15);
                CHECK(streq(card + 5, jstr(si, "book_number")));
                stats[9]++;
        }

        sp = get_json(r, DATASET_DB_SOCIAL_PROTECTION, id);
        CHECK(sp);
        CHECK(json_is_array(json_object_get(sp, "benefits")));

        json_decref(pop);
        json_decref(birth);
        json_decref(mar);
        json_decref(land);
        json_decref(ebo);
        json_decref(si);
        json_decref(cs);
        json_decref(tax);
        json_decref(crim);
        json_decref(lic);
        json_decref(hi);
        json_decref(dip);
        json_decref(sp);
}

static void test_generate_and_read(void)
{
        _cleanup_free_ char *a = tmpdir(), *b = tmpdir(), *c = tmpdir();
        _cleanup_(dataset_freep) Dataset *d = NULL;
        _cleanup_(dataset_reader_freep) DatasetReader *r = NULL;
        unsigned stats[10] = {};
        char *doc;
        double t0;

        assert(dataset_generate(a, 0, SEED) == -EINVAL);
        assert(dataset_generate(a, DATASET_MAX_PEOPLE + 1, SEED) == -EINVAL);
        assert(dataset_generate("", 10, SEED) == -EINVAL);
        assert(dataset_open(&d, a) == -ENOENT);

        t0 = now_s();
        assert(dataset_generate(a, PEOPLE, SEED) == 0);
        printf("generate: %d people in %.2f s\n", PEOPLE, now_s() - t0);
        assert(dataset_generate(a, PEOPLE, SEED) == DATASET_UNCHANGED);
        assert(dataset_generate(b, PEOPLE, SEED) == 0);
        compare_envs(a, b);

        /* regeneration with other parameters replaces the content */
        assert(dataset_generate(b, 50, SEED + 1) == 0);
        assert(dataset_open(&d, b) == 0);
        assert(dataset_people(d) == 50 && dataset_seed(d) == SEED + 1);
        assert(dataset_reader_new(d, &r) == 0);
        {
                char id[DATASET_ID_LEN + 1];
                size_t n = 0;

                dataset_person_id(SEED, 3000, id);
                assert(dataset_get(r, DATASET_DB_POPULATION, id, &doc, NULL) == -ENOENT);
                for (uint64_t i = 0; i < 50; i++) {
                        dataset_person_id(SEED + 1, i, id);
                        assert(dataset_get(r, DATASET_DB_POPULATION, id, &doc, &n) == 0);
                        assert(n == strlen(doc));
                        free(doc);
                }
        }
        r = dataset_reader_free(r);
        d = dataset_free(d);

        assert(dataset_open(&d, a) == 0);
        assert(dataset_people(d) == PEOPLE && dataset_seed(d) == SEED);
        assert(dataset_reader_new(d, &r) == 0);
        assert(dataset_get(r, DATASET_DB_POPULATION, "000000000000", &doc, NULL) == -ENOENT);
        assert(dataset_get(r, _DATASET_DB_MAX, "001090000001", &doc, NULL) == -EINVAL);
        assert(dataset_get(r, DATASET_DB_POPULATION, "", &doc, NULL) == -EINVAL);
        assert(dataset_db_name(_DATASET_DB_MAX) == NULL);

        for (uint64_t i = 0; i < PEOPLE; i++)
                check_person(r, i, SEED, stats);
        printf("consistency: %d people; Nguyễn %u, female %u, parent links %u, married pairs %u, parcels %u, "
               "enterprises %u, civil servants %u, convictions %u, licences %u, insured %u\n",
               PEOPLE, stats[0], stats[1], stats[2], stats[3], stats[4], stats[5], stats[6], stats[7], stats[8],
               stats[9]);
        /* the shape is plausible (loose bounds: a broken generator lands far outside) */
        assert(stats[0] > PEOPLE * 30 / 100 && stats[0] < PEOPLE * 48 / 100);
        assert(stats[1] > PEOPLE * 40 / 100 && stats[1] < PEOPLE * 60 / 100);
        assert(stats[2] > PEOPLE / 5 && stats[3] > PEOPLE / 10);
        assert(stats[4] > 0 && stats[5] > 0 && stats[6] > 0 && stats[8] > PEOPLE / 4);
        assert(stats[7] < PEOPLE / 50);
        assert(stats[9] > PEOPLE * 80 / 100);

        /* the tax obligation check */
        {
                json_t *j;
                size_t n;

                assert(dataset_tax_check(r, "001090000001", 2014, false, &doc, &n) == -ERANGE);
                assert(dataset_tax_check(r, "001090000001", 2026, false, &doc, &n) == -ERANGE);
                assert(dataset_tax_check(r, "000000000000", 2024, false, &doc, &n) == -ENOENT);
                assert(dataset_tax_check(r, "001090000001", 2024, true, &doc, &n) == 0);
                j = json_loads(doc, 0, NULL);
                assert(j);
                assert(json_integer_value(json_object_get(j, "tax_year")) == 2024);
                assert(json_is_boolean(json_object_get(j, "fulfilled")));
                assert(json_is_array(json_object_get(j, "details")));
                assert(json_integer_value(json_object_get(j, "assessed_vnd")) ==
                       json_integer_value(json_object_get(j, "paid_vnd")) +
                               json_integer_value(json_object_get(j, "outstanding_vnd")));
                json_decref(j);
                free(doc);
                assert(dataset_tax_check(r, "001090000001", 2024, false, &doc, &n) == 0);
                j = json_loads(doc, 0, NULL);
                assert(!json_object_get(j, "details"));
                json_decref(j);
                free(doc);

                /* someone with a debt has not fulfilled the reference year */
                for (uint64_t i = 0, found = 0; i < PEOPLE && !found; i++) {
                        char id[DATASET_ID_LEN + 1];
                        json_t *tax;

                        dataset_person_id(SEED, i, id);
                        tax = get_json(r, DATASET_DB_TAX, id);
                        if (json_integer_value(json_object_get(tax, "outstanding_debt_vnd")) > 0) {
                                assert(dataset_tax_check(r, id, DATASET_REFERENCE_YEAR, true, &doc, &n) == 0);
                                j = json_loads(doc, 0, NULL);
                                assert(json_is_false(json_object_get(j, "fulfilled")));
                                assert(json_integer_value(json_object_get(j, "outstanding_vnd")) ==
                                       json_integer_value(json_object_get(tax, "outstanding_debt_vnd")));
                                json_decref(j);
                                free(doc);
                                found = 1;
                        }
                        json_decref(tax);
                }
        }
        r = dataset_reader_free(r);
        d = dataset_free(d);

        /* timing for 100,000 people (printed, not asserted) */
        t0 = now_s();
        assert(dataset_generate(c, 100000, SEED) == 0);
        printf("generate: 100000 people in %.2f s\n", now_s() - t0);

        /* the 10,000 dataset is a prefix of the 100,000 one */
        {
                DatasetReader *ra, *rc;
                Dataset *da, *dc;

                assert(dataset_open(&da, a) == 0 && dataset_open(&dc, c) == 0);
                assert(dataset_reader_new(da, &ra) == 0 && dataset_reader_new(dc, &rc) == 0);
                for (uint64_t i = 0; i < PEOPLE - 6; i += 7) {
                        char id[DATASET_ID_LEN + 1], *x, *y;

                        dataset_person_id(SEED, i, id);
                        for (int db = 0; db < _DATASET_DB_MAX; db++) {
                                int ex, ey;

                                if (db == DATASET_DB_ENTERPRISE)
                                        continue;
                                ex = dataset_get(ra, db, id, &x, NULL);
                                ey = dataset_get(rc, db, id, &y, NULL);
                                assert(ex == ey);
                                if (ex == 0) {
                                        assert(streq(x, y));
                                        free(x);
                                        free(y);
                                }
                        }
                }
                dataset_reader_free(ra);
                dataset_reader_free(rc);
                dataset_free(da);
                dataset_free(dc);
        }

        rm_rf(a);
        rm_rf(b);
        rm_rf(c);
        printf("generate and read: ok\n");
}

/* The table sizes in dataset-internal.h match the definitions (fewer entries would leave zeros at the end). */
static void test_tables(void)
{
#define ALL(t, cond)                                       \
        do {                                               \
                for (size_t i = 0; i < ELEMENTSOF(t); i++) \
                        assert(cond);                      \
        } while (0)
        ALL(provinces, provinces[i].code > 0 && provinces[i].name && provinces[i].districts[0]);
        ALL(migration_targets, migration_targets[i] > 0);
        ALL(family_names, family_names[i].s && family_names[i].w > 0);
        for (unsigned sex = 0; sex < 2; sex++) {
                ALL(middle_names[sex], middle_names[sex][i].s && middle_names[sex][i].w > 0);
                ALL(given_names[sex], given_names[sex][i]);
        }
        ALL(ethnicities, ethnicities[i].s && ethnicities[i].w > 0);
        ALL(streets, streets[i]);
        ALL(company_words, company_words[i]);
        ALL(company_brands, company_brands[i]);
        ALL(company_types, company_types[i][0] && company_types[i][1]);
        ALL(business_lines, business_lines[i]);
        ALL(agencies, agencies[i]);
        ALL(servant_grades, servant_grades[i][0] && servant_grades[i][1]);
        ALL(servant_positions, servant_positions[i]);
        ALL(universities, universities[i]);
        ALL(majors, majors[i][0] && majors[i][1]);
        ALL(school_names, school_names[i]);
        ALL(offences, offences[i].code && offences[i].name);
        ALL(sentences, sentences[i]);
#undef ALL
}

int main(void)
{
        test_tables();
        test_ids();
        test_generate_and_read();
        return 0;
}
