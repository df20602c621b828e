/* dataset.h: the deterministic synthetic population behind the sample national databases
 *
 * dataset_generate() writes N generated people into one LMDB environment
 * (`<dir>/sample.mdb/`), one named database per national database, keyed by
 * the 12-digit personal id (enterprises by their 10-digit code), each value
 * the JSON document exactly as the sample services serve it. The same person
 * is consistent across databases: spouses point at each other, children's
 * birth records name parents that exist, land parcels of a couple list both
 * owners, an enterprise's legal representative lists it, a civil servant's
 * current insurance period is at their agency, and so on.
 *
 * Determinism: person i depends only on (seed, i) and the people of its own
 * household block (six consecutive indices), never on N or the clock. The
 * dataset's "today" is DATASET_REFERENCE_DATE. Person 0 is the demo citizen:
 * "Nguyễn Văn An", born 1990 in Hà Nội, id 001090000001 for every seed.
 *
 * Caveats: the LMDB environment is opened with MDB_NOTLS; a DatasetReader
 * (one read transaction, reset between lookups) must be used by one thread
 * at a time, and each thread should have its own.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/macro.h"

#define DATASET_ID_LEN 12
#define DATASET_ENTERPRISE_CODE_LEN 10
#define DATASET_MAX_PEOPLE 1000000ULL /* the id serial (6 digits) is unique below this */
#define DATASET_DEFAULT_SEED 2025ULL
#define DATASET_REFERENCE_DATE "2025-07-01"
#define DATASET_REFERENCE_YEAR 2025
#define DATASET_UNCHANGED 1 /* dataset_generate(): already there, nothing written */

typedef enum DatasetDb {
        DATASET_DB_POPULATION,
        DATASET_DB_BIRTH_RECORD,
        DATASET_DB_MARITAL_STATUS,
        DATASET_DB_LAND_PARCELS,
        DATASET_DB_ENTERPRISE, /* keyed by enterprise code */
        DATASET_DB_ENTERPRISES_BY_OWNER,
        DATASET_DB_SOCIAL_INSURANCE,
        DATASET_DB_CIVIL_SERVANTS, /* only civil servants */
        DATASET_DB_TAX,
        DATASET_DB_CRIMINAL_RECORD,
        DATASET_DB_DRIVING_LICENCES, /* only licence holders */
        DATASET_DB_HEALTH_INSURANCE, /* only the insured */
        DATASET_DB_DIPLOMAS,
        DATASET_DB_SOCIAL_PROTECTION,
        _DATASET_DB_MAX,
} DatasetDb;

/* dataset_db_name(): the LMDB name of `db` ("population", ...); NULL when out of range. */
const char *dataset_db_name(DatasetDb db);

/*
 * dataset_person_id(): person `index`'s 12-digit id (province of birth, sex
 * and century, two-digit birth year, serial) into `out`, NUL-terminated,
 * without the database. Return: 0, or -ERANGE when index >= DATASET_MAX_PEOPLE.
 */
int dataset_person_id(uint64_t seed, uint64_t index, char out[DATASET_ID_LEN + 1]);

/*
 * dataset_generate(): generate `people` people (1..DATASET_MAX_PEOPLE) from
 * `seed` into `<dir>/sample.mdb/`, creating the folders. When the stored meta
 * record already says (people, seed, format) nothing is written. Safe
 * against a concurrent generator or readers (one LMDB write transaction).
 * Return: 0 when generated, DATASET_UNCHANGED when already present, -EINVAL,
 * -ENOMEM, -EIO (LMDB failure), or another -errno.
 */
int dataset_generate(const char *dir, uint64_t people, uint64_t seed);

typedef struct Dataset Dataset;
typedef struct DatasetReader DatasetReader;

/*
 * dataset_open(): open `<dir>/sample.mdb/` read-only. Return: 0, -ENOENT
 * when there is no generated dataset, -EIO, -ENOMEM.
 */
int dataset_open(Dataset **ret, const char *dir);
/* dataset_free(): close; all readers must be freed first. Return: NULL. */
Dataset *dataset_free(Dataset *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Dataset *, dataset_free);

/* dataset_people(), dataset_seed(): the parameters the opened dataset was generated with. */
uint64_t dataset_people(const Dataset *d);
uint64_t dataset_seed(const Dataset *d);

/*
 * dataset_reader_new(): a reader (one LMDB read transaction, reset between
 * lookups) for one thread at a time; it must not outlive `d`.
 * Return: 0, -ENOMEM, -EIO.
 */
int dataset_reader_new(Dataset *d, DatasetReader **ret);
/* dataset_reader_free(): Return: NULL. */
DatasetReader *dataset_reader_free(DatasetReader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(DatasetReader *, dataset_reader_free);

/*
 * dataset_get(): the stored document for `key` in `db`, copied into a
 * malloc'd NUL-terminated string the caller frees (`*ret_size` without the
 * NUL). Return: 0, -ENOENT when the key is not there, -EINVAL, -ENOMEM, -EIO.
 */
int dataset_get(DatasetReader *r, DatasetDb db, const char *key, char **ret, size_t *ret_size);

/*
 * dataset_tax_check(): the answer of the tax obligation check for `id` and
 * `tax_year` (computed, not stored; consistent with the stored tax status:
 * an outstanding debt makes the reference year unfulfilled) as a malloc'd
 * JSON document. Return: 0, -ENOENT (unknown person), -ERANGE (year outside
 * 2015..DATASET_REFERENCE_YEAR), -ENOMEM, -EIO.
 */
int dataset_tax_check(DatasetReader *r, const char *id, int tax_year, bool include_details, char **ret,
                      size_t *ret_size);
