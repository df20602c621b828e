/* dataset.c: the sample dataset's LMDB store: generate the population into it, and read it back */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>
#include <lmdb.h>

#include "sample/dataset-internal.h"
#include "util/lmdb-util.h"

/*
 * Documents are written in id order with MDB_APPEND (ids are sorted once),
 * GENERATE_BATCH people per write transaction: 100,000 people make ~1.2
 * million records, about 300 MB.
 */

#define GENERATE_BATCH 20000 /* people per write transaction */
#define DATASET_FORMAT 1
#define DB_META_NAME "meta"

/* ---- LMDB store ---- */

static const char *const db_names[_DATASET_DB_MAX] = {
        [DATASET_DB_POPULATION] = "population",
        [DATASET_DB_BIRTH_RECORD] = "birth-record",
        [DATASET_DB_MARITAL_STATUS] = "marital-status",
        [DATASET_DB_LAND_PARCELS] = "land-parcels",
        [DATASET_DB_ENTERPRISE] = "enterprise",
        [DATASET_DB_ENTERPRISES_BY_OWNER] = "enterprises-by-owner",
        [DATASET_DB_SOCIAL_INSURANCE] = "social-insurance",
        [DATASET_DB_CIVIL_SERVANTS] = "civil-servants",
        [DATASET_DB_TAX] = "tax",
        [DATASET_DB_CRIMINAL_RECORD] = "criminal-record",
        [DATASET_DB_DRIVING_LICENCES] = "driving-licences",
        [DATASET_DB_HEALTH_INSURANCE] = "health-insurance",
        [DATASET_DB_DIPLOMAS] = "diplomas",
        [DATASET_DB_SOCIAL_PROTECTION] = "social-protection",
};

const char *dataset_db_name(DatasetDb db)
{
        return db >= 0 && db < _DATASET_DB_MAX ? db_names[db] : NULL;
}

static int env_path(const char *dir, char *buf, size_t size)
{
        if (isempty(dir) || (size_t)snprintf(buf, size, "%s/sample.mdb", dir) >= size)
                return -EINVAL;
        return 0;
}

static int mkdir_p(const char *path)
{
        char buf[4096];
        size_t n = strlen(path);

        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, path, n + 1);
        for (char *s = buf + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int put(MDB_txn *txn, MDB_dbi dbi, const char *key, JsonW *j, unsigned flags)
{
        MDB_val k = { strlen(key), (void *)key }, v = { j->len, j->buf };

        if (j->oom)
                return -ENOMEM;
        return lmdb_to_errno(mdb_put(txn, dbi, &k, &v, flags));
}

static int cmp_person_id(const void *a, const void *b, void *arg)
{
        const Person *persons = arg;

        return memcmp(persons[*(const uint32_t *)a].id, persons[*(const uint32_t *)b].id, DATASET_ID_LEN);
}

/* An enterprise, found while writing its owner's documents and written once all are known (in code order). */
typedef struct Enterprise {
        char code[DATASET_ENTERPRISE_CODE_LEN + 1];
        uint64_t owner;
        uint8_t k;
} Enterprise;

static int cmp_enterprise(const void *a, const void *b)
{
        return memcmp(((const Enterprise *)a)->code, ((const Enterprise *)b)->code, DATASET_ENTERPRISE_CODE_LEN);
}

static int meta_read(MDB_txn *txn, MDB_dbi dbi, uint64_t *people, uint64_t *seed, int *format)
{
        MDB_val k = { 4, (void *)"meta" }, v;
        char buf[256];
        unsigned long long p, s;
        int f;

        if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size >= sizeof(buf))
                return -ENOENT;
        memcpy(buf, v.mv_data, v.mv_size);
        buf[v.mv_size] = '\0';
        if (sscanf(buf, "{\"format\":%d,\"people\":%llu,\"seed\":%llu}", &f, &p, &s) != 3)
                return -EIO;
        *people = p;
        *seed = s;
        *format = f;
        return 0;
}

/* Commit and continue in a fresh write transaction (bounds the dirty pages held in memory). */
static int txn_checkpoint(MDB_env *env, MDB_txn **txn)
{
        int rc;

        rc = mdb_txn_commit(TAKE_PTR(*txn));
        if (rc == 0)
                rc = mdb_txn_begin(env, NULL, 0, txn);
        return lmdb_to_errno(rc);
}

static int write_all(Gen *g, MDB_env *env, MDB_txn **txn, MDB_dbi *dbis)
{
        _cleanup_free_ uint32_t *order = NULL;
        _cleanup_free_ Enterprise *ents = NULL;
        size_t n_ents = 0, cap_ents = 0;
        int r;

        order = malloc(g->people * sizeof(*order));
        if (!order)
                return -ENOMEM;
        for (uint64_t i = 0; i < g->people; i++)
                order[i] = (uint32_t)i;
        qsort_r(order, g->people, sizeof(*order), cmp_person_id, g->persons);

        for (uint64_t o = 0; o < g->people; o++) {
                const Person *p = &g->persons[order[o]];

                if (o > 0 && o % GENERATE_BATCH == 0) {
                        r = txn_checkpoint(env, txn);
                        if (r < 0)
                                return r;
                }
                for (DatasetDb db = 0; db < _DATASET_DB_MAX; db++) {
                        g->j.len = 0;
                        if (!doc_render(g, db, p))
                                continue;
                        r = put(*txn, dbis[db], p->id, &g->j, MDB_APPEND);
                        if (r < 0)
                                return r;
                }
                for (unsigned k = 0; k < p->enterprises; k++) {
                        if (n_ents == cap_ents) {
                                size_t cap = MAX(cap_ents * 2, (size_t)1024);
                                Enterprise *e = realloc(ents, cap * sizeof(*e));
                                if (!e)
                                        return -ENOMEM;
                                ents = e;
                                cap_ents = cap;
                        }
                        enterprise_code(p, k, ents[n_ents].code);
                        ents[n_ents].owner = p->index;
                        ents[n_ents].k = (uint8_t)k;
                        n_ents++;
                }
        }

        qsort(ents, n_ents, sizeof(*ents), cmp_enterprise);
        for (size_t e = 0; e < n_ents; e++) {
                g->j.len = 0;
                doc_enterprise(g, &g->persons[ents[e].owner], ents[e].k);
                r = put(*txn, dbis[DATASET_DB_ENTERPRISE], ents[e].code, &g->j, MDB_APPEND);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int env_create(const char *path, size_t mapsize, unsigned flags, MDB_env **ret)
{
        _cleanup_(mdb_env_closep) MDB_env *env = NULL;
        int rc;

        rc = mdb_env_create(&env);
        if (rc != 0)
                return lmdb_to_errno(rc);
        if (mapsize > 0 && (rc = mdb_env_set_mapsize(env, mapsize)) != 0)
                return lmdb_to_errno(rc);
        if ((rc = mdb_env_set_maxdbs(env, _DATASET_DB_MAX + 4)) != 0 || (rc = mdb_env_set_maxreaders(env, 512)) != 0)
                return lmdb_to_errno(rc);
        rc = mdb_env_open(env, path, flags, 0644);
        if (rc != 0)
                return lmdb_to_errno(rc);
        *ret = TAKE_PTR(env);
        return 0;
}

int dataset_generate(const char *dir, uint64_t people, uint64_t seed)
{
        _cleanup_(mdb_env_closep) MDB_env *env = NULL;
        _cleanup_(lmdb_txn_abortp) MDB_txn *txn = NULL;
        MDB_dbi dbis[_DATASET_DB_MAX], meta;
        Gen g = { .seed = seed, .people = people };
        char path[4096], lock_path[4200], buf[128];
        _cleanup_close_ int lock_fd = -1;
        uint64_t old_people, old_seed;
        int old_format, r, rc;
        MDB_val k, v;

        if (people < 1 || people > DATASET_MAX_PEOPLE)
                return -EINVAL;
        r = env_path(dir, path, sizeof(path));
        if (r < 0)
                return r;
        r = mkdir_p(path);
        if (r < 0)
                return r;
        /*
         * The documents are written in several transactions (memory stays
         * bounded) and the meta record last: readers see no dataset until it
         * is complete. A lock file keeps two generators from interleaving.
         */
        if ((size_t)snprintf(lock_path, sizeof(lock_path), "%s/generate.lock", path) >= sizeof(lock_path))
                return -EINVAL;
        lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock_fd < 0)
                return -errno;
        if (flock(lock_fd, LOCK_EX) < 0)
                return -errno;
        r = env_create(path, MIB(64) + (size_t)people * KIB(8), MDB_NOTLS, &env);
        if (r < 0)
                return r;

        rc = mdb_txn_begin(env, NULL, 0, &txn);
        if (rc != 0)
                return lmdb_to_errno(rc);
        rc = mdb_dbi_open(txn, DB_META_NAME, MDB_CREATE, &meta);
        if (rc != 0)
                return lmdb_to_errno(rc);
        if (meta_read(txn, meta, &old_people, &old_seed, &old_format) == 0 && old_people == people &&
            old_seed == seed && old_format == DATASET_FORMAT)
                return DATASET_UNCHANGED;
        for (int d = 0; d < _DATASET_DB_MAX; d++) {
                rc = mdb_dbi_open(txn, db_names[d], MDB_CREATE, &dbis[d]);
                if (rc == 0)
                        rc = mdb_drop(txn, dbis[d], 0);
                if (rc != 0)
                        return lmdb_to_errno(rc);
        }
        rc = mdb_drop(txn, meta, 0);
        if (rc != 0)
                return lmdb_to_errno(rc);

        g.persons = malloc(people * sizeof(Person));
        if (!g.persons)
                return -ENOMEM;
        for (uint64_t b = 0; b * BLOCK_SIZE < people; b++) {
                Person block[BLOCK_SIZE];

                block_make(seed, b, block);
                for (unsigned s = 0; s < BLOCK_SIZE && b * BLOCK_SIZE + s < people; s++)
                        g.persons[b * BLOCK_SIZE + s] = block[s];
        }
        r = write_all(&g, env, &txn, dbis);
        free(g.persons);
        free(g.j.buf);
        if (r < 0)
                return r;

        snprintf(buf, sizeof(buf), "{\"format\":%d,\"people\":%" PRIu64 ",\"seed\":%" PRIu64 "}", DATASET_FORMAT,
                 people, seed);
        k = (MDB_val){ 4, (void *)"meta" };
        v = (MDB_val){ strlen(buf), buf };
        rc = mdb_put(txn, meta, &k, &v, 0);
        if (rc != 0)
                return lmdb_to_errno(rc);
        rc = mdb_txn_commit(TAKE_PTR(txn));
        if (rc != 0)
                return lmdb_to_errno(rc);
        return 0;
}

/* ---- reading ---- */

struct Dataset {
        MDB_env *env;
        MDB_dbi dbis[_DATASET_DB_MAX];
        uint64_t people, seed;
};

struct DatasetReader {
        Dataset *d;
        MDB_txn *txn; /* reset between lookups */
};

int dataset_open(Dataset **ret, const char *dir)
{
        _cleanup_(dataset_freep) Dataset *d = NULL;
        _cleanup_(lmdb_txn_abortp) MDB_txn *txn = NULL;
        char path[4096];
        MDB_dbi meta;
        int format, r, rc;
        struct stat st;

        r = env_path(dir, path, sizeof(path));
        if (r < 0)
                return r;
        if (stat(path, &st) < 0)
                return -errno;
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        r = env_create(path, 0, MDB_RDONLY | MDB_NOTLS, &d->env);
        if (r < 0)
                return r;
        rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &txn);
        if (rc != 0)
                return lmdb_to_errno(rc);
        rc = mdb_dbi_open(txn, DB_META_NAME, 0, &meta);
        if (rc != 0)
                return lmdb_to_errno(rc);
        r = meta_read(txn, meta, &d->people, &d->seed, &format);
        if (r < 0)
                return r;
        if (format != DATASET_FORMAT)
                return -EIO;
        for (int i = 0; i < _DATASET_DB_MAX; i++) {
                rc = mdb_dbi_open(txn, db_names[i], 0, &d->dbis[i]);
                if (rc != 0)
                        return lmdb_to_errno(rc);
        }
        /* handles opened in a read-only transaction stay valid once it commits */
        rc = mdb_txn_commit(TAKE_PTR(txn));
        if (rc != 0)
                return lmdb_to_errno(rc);
        *ret = TAKE_PTR(d);
        return 0;
}

Dataset *dataset_free(Dataset *d)
{
        if (!d)
                return NULL;
        if (d->env)
                mdb_env_close(d->env);
        free(d);
        return NULL;
}

uint64_t dataset_people(const Dataset *d)
{
        return d->people;
}

uint64_t dataset_seed(const Dataset *d)
{
        return d->seed;
}

int dataset_reader_new(Dataset *d, DatasetReader **ret)
{
        DatasetReader *r;
        int rc;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->d = d;
        rc = mdb_txn_begin(d->env, NULL, MDB_RDONLY, &r->txn);
        if (rc != 0) {
                free(r);
                return lmdb_to_errno(rc);
        }
        mdb_txn_reset(r->txn);
        *ret = r;
        return 0;
}

DatasetReader *dataset_reader_free(DatasetReader *r)
{
        if (!r)
                return NULL;
        if (r->txn)
                mdb_txn_abort(r->txn);
        free(r);
        return NULL;
}

int dataset_get(DatasetReader *r, DatasetDb db, const char *key, char **ret, size_t *ret_size)
{
        MDB_val k, v;
        char *copy;
        int rc;

        if (db < 0 || db >= _DATASET_DB_MAX || isempty(key) || strlen(key) > 64)
                return -EINVAL;
        rc = mdb_txn_renew(r->txn);
        if (rc != 0)
                return lmdb_to_errno(rc);
        k = (MDB_val){ strlen(key), (void *)key };
        rc = mdb_get(r->txn, r->d->dbis[db], &k, &v);
        if (rc != 0) {
                mdb_txn_reset(r->txn);
                return lmdb_to_errno(rc);
        }
        /* LMDB memory lives only inside the transaction: copy before reset */
        copy = malloc(v.mv_size + 1);
        if (!copy) {
                mdb_txn_reset(r->txn);
                return -ENOMEM;
        }
        memcpy(copy, v.mv_data, v.mv_size);
        copy[v.mv_size] = '\0';
        mdb_txn_reset(r->txn);
        *ret = copy;
        if (ret_size)
                *ret_size = v.mv_size;
        return 0;
}

static uint64_t id_hash(const char *id)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (; *id; id++)
                h = (h ^ (unsigned char)*id) * 0x100000001b3ULL;
        return h;
}

int dataset_tax_check(DatasetReader *r, const char *id, int tax_year, bool include_details, char **ret,
                      size_t *ret_size)
{
        _cleanup_free_ char *doc = NULL;
        json_auto_t *j = NULL;
        JsonW w = {};
        int64_t debt, income_tax = 0, land_tax = 0, outstanding = 0;
        bool active;
        Rng rng;
        int e;

        if (tax_year < 2015 || tax_year > DATASET_REFERENCE_YEAR)
                return -ERANGE;
        e = dataset_get(r, DATASET_DB_TAX, id, &doc, NULL);
        if (e < 0)
                return e;
        j = json_loads(doc, 0, NULL);
        if (!j)
                return -EIO;
        debt = json_integer_value(json_object_get(j, "outstanding_debt_vnd"));
        active = streq(json_string_value(json_object_get(j, "status")) ?: "", "active");

        rng_init(&rng, r->d->seed, STREAM_TAXYEAR, id_hash(id) * 31 + (uint64_t)tax_year);
        if (active) {
                income_tax = rng_permille(&rng, 600) ? rng_range(&rng, 1, 400) * 50000LL : 0;
                land_tax = rng_permille(&rng, 500) ? rng_range(&rng, 1, 40) * 10000LL : 0;
        }
        if (tax_year == DATASET_REFERENCE_YEAR)
                outstanding = debt;
        else if (active && rng_permille(&rng, 20)) {
                int64_t part = rng_range(&rng, 1, 50) * 10000LL;
                outstanding = MIN(income_tax + land_tax, part);
        }

        jw_begin(&w, '{');
        jw_str(&w, "id", id);
        jw_int(&w, "tax_year", tax_year);
        jw_bool(&w, "fulfilled", outstanding == 0);
        jw_int(&w, "assessed_vnd", income_tax + land_tax + (tax_year == DATASET_REFERENCE_YEAR ? debt : 0));
        jw_int(&w, "paid_vnd", income_tax + land_tax + (tax_year == DATASET_REFERENCE_YEAR ? debt : 0) - outstanding);
        jw_int(&w, "outstanding_vnd", outstanding);
        if (include_details) {
                jw_key(&w, "details");
                jw_begin(&w, '[');
                if (income_tax > 0 || (tax_year == DATASET_REFERENCE_YEAR && debt > 0)) {
                        int64_t assessed = income_tax + (tax_year == DATASET_REFERENCE_YEAR ? debt : 0);
                        jw_begin(&w, '{');
                        jw_str(&w, "tax_type", "personal_income");
                        jw_int(&w, "assessed_vnd", assessed);
                        jw_int(&w, "paid_vnd", assessed - MIN(outstanding, assessed));
                        jw_end(&w, '}');
                }
                if (land_tax > 0) {
                        int64_t rest = outstanding -
                                       MIN(outstanding, income_tax + (tax_year == DATASET_REFERENCE_YEAR ? debt : 0));
                        jw_begin(&w, '{');
                        jw_str(&w, "tax_type", "non_agricultural_land_use");
                        jw_int(&w, "assessed_vnd", land_tax);
                        jw_int(&w, "paid_vnd", land_tax - rest);
                        jw_end(&w, '}');
                }
                jw_end(&w, ']');
        }
        jw_end(&w, '}');
        if (w.oom) {
                free(w.buf);
                return -ENOMEM;
        }
        *ret = w.buf;
        if (ret_size)
                *ret_size = w.len;
        return 0;
}
