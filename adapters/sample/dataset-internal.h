/* dataset-internal.h: what the four pieces of the sample dataset offer each other
 *
 * dataset.h is the module's interface; this header is private to its files:
 *   dataset-tables.c  the static data: provinces, names, streets, companies, ...
 *   dataset-people.c  the generator: splitmix64 streams, dates, the people of
 *                     one household block with their links (block_make())
 *   dataset-docs.c    one person's document in each national database (JSON)
 *   dataset.c         the LMDB store: generating into it and reading it back
 *
 * Everything here is deterministic and allocation-free except the JSON
 * writer (JsonW), which grows its buffer and records running out of memory
 * in `oom` instead of failing each call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sample/dataset.h"
#include "util/macro.h"

#define BLOCK_SIZE 6 /* people per household block */
#define REF_Y 2025   /* DATASET_REFERENCE_DATE */
#define REF_M 7
#define REF_D 1

/* The splitmix64 streams: rng_init(seed, stream, index). */
enum {
        STREAM_BLOCK = 1,
        STREAM_PERSON,
        STREAM_FACTS,
        STREAM_PARENTS,
        STREAM_HOUSEHOLD,
        STREAM_DOC_BASE = 100, /* + DatasetDb: per-database details */
        STREAM_TAXYEAR = 200,
};

enum { SEX_MALE, SEX_FEMALE };
enum { ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_SINGLE };
enum { MARITAL_SINGLE, MARITAL_MARRIED, MARITAL_DIVORCED, MARITAL_WIDOWED };
enum { BLOCK_COUPLE, BLOCK_SINGLE_PARENT, BLOCK_SINGLES };

/*
 * ---- dataset-tables.c: the static data ----
 * A declared size too small makes the compiler warn (excess elements); too
 * large leaves zeroed entries at the end, which test-dataset refuses.
 */

typedef struct Province {
        uint16_t code;
        const char *name;
        uint16_t weight;          /* population, tens of thousands (2019 census, rounded) */
        const char *districts[6]; /* urban districts, or the provincial city */
} Province;

typedef struct Weighted {
        const char *s;
        uint16_t w;       /* born before 1985 */
        uint16_t w_young; /* born 1985 or later (0: same as w) */
} Weighted;

typedef struct Offence {
        const char *code, *name;
} Offence;

extern const Province provinces[63];
#define PROVINCE_HANOI 0
extern const uint16_t migration_targets[6]; /* where people move to: province codes */
extern const Weighted family_names[16];
#define FAMILY_NGUYEN 0
extern const Weighted middle_names[2][12]; /* [sex] */
#define MIDDLE_VAN 0
extern const char *const given_names[2][33]; /* [sex] */
#define GIVEN_AN 0
extern const Weighted ethnicities[14];
extern const char *const streets[20];
extern const char *const company_words[12];
extern const char *const company_brands[16];
extern const char *const company_types[4][2]; /* short form, full name */
extern const char *const business_lines[8];
extern const char *const agencies[8];
extern const char *const servant_grades[4][2]; /* code, name */
extern const char *const servant_positions[3];
extern const char *const universities[12];
extern const char *const majors[9][2]; /* major, diploma */
extern const char *const school_names[8];
extern const Offence offences[5];
extern const char *const sentences[4];

/* ---- dataset-people.c: randomness, dates and people ---- */

typedef struct Rng {
        uint64_t s;
} Rng;

/* rng_init(): the stream `stream` of person (or block, ...) `index` under `seed`. */
void rng_init(Rng *r, uint64_t seed, uint64_t stream, uint64_t index);
/* rng_below(): uniform in [0, n). */
uint64_t rng_below(Rng *r, uint64_t n);
/* rng_range(): uniform in [lo, hi]; lo when hi <= lo. */
int rng_range(Rng *r, int lo, int hi);
/* rng_permille(): true with probability p/1000. */
bool rng_permille(Rng *r, unsigned p);
/* pick_weighted(): an index into t[n] by weight (w_young for the young, when set). */
unsigned pick_weighted(Rng *r, const Weighted *t, size_t n, bool young);
#define PICK(r, table) ((unsigned)rng_below((r), ELEMENTSOF(table)))

/* Proleptic Gregorian dates; y == 0 is "no date". */
typedef struct Date {
        uint16_t y;
        uint8_t m, d;
} Date;

extern const Date reference_date; /* DATASET_REFERENCE_DATE */

/* date_days(): days since 1970-01-01. */
int64_t date_days(Date d);
Date date_add(Date d, int64_t days);
Date date_ymd(int y, int m, int d);
/* rng_date(): a random date in [from, to] (clamped: to < from gives from). */
Date rng_date(Rng *r, Date from, Date to);
/* age_at(): full years from `birth` to `at`. */
int age_at(Date birth, Date at);
bool date_before(Date a, Date b);
Date date_min(Date a, Date b);
Date date_max(Date a, Date b);

typedef struct Person {
        uint64_t index;
        char id[DATASET_ID_LEN + 1];
        uint8_t sex, role, marital, block_kind;
        uint8_t family, middle, given, ethnicity;
        uint8_t birth_prov, home_prov, res_prov;
        uint8_t district, ward, street;
        uint16_t house;
        Date birth;
        Date since;                     /* marriage, divorce or widowhood; y == 0 when none */
        int64_t spouse, father, mother; /* indices, -1 when outside the dataset model */
        uint64_t head;                  /* household head index */
        /* facts shared by several databases */
        bool civil_servant, employed, retired, university, poor_household, disabled;
        uint8_t enterprises; /* 0..2 as legal representative */
        uint8_t agency;
        Date work_start;    /* first insured job */
        Date servant_since; /* civil servants: start at the agency */
} Person;

/* person_name(): "family middle given" into buf. */
void person_name(const Person *p, char *buf, size_t size);
/* pick_name(): a middle and a given name for someone of `sex` born in `birth_year`. */
void pick_name(Rng *r, uint8_t sex, int birth_year, uint8_t *middle, uint8_t *given);
/*
 * block_make(): the BLOCK_SIZE people of block `b` (indices b*6 .. b*6+5),
 * with ids, households and links inside the block.
 */
void block_make(uint64_t seed, uint64_t b, Person out[BLOCK_SIZE]);

/* ---- dataset-docs.c: the JSON writer and the documents ---- */

typedef struct JsonW {
        char *buf; /* malloc'd, NUL-terminated; the owner frees it */
        size_t len, cap;
        bool oom; /* an allocation failed: the document is incomplete */
} JsonW;

/* Members and values: `k` is the member name, or NULL for an array element. */
void jw_begin(JsonW *j, char c); /* '{' or '[' */
void jw_end(JsonW *j, char c);
void jw_key(JsonW *j, const char *k);
void jw_str(JsonW *j, const char *k, const char *v); /* v NULL: null */
void jw_int(JsonW *j, const char *k, int64_t v);
void jw_bool(JsonW *j, const char *k, bool v);

/* The people being generated; documents are rendered into `j`. */
typedef struct Gen {
        uint64_t seed, people;
        Person *persons; /* [people] */
        JsonW j;
} Gen;

/*
 * doc_render(): append person `p`'s document in `db` to g->j (not for
 * DATASET_DB_ENTERPRISE, whose documents are per enterprise).
 * Return: false when `p` has no document in `db`.
 */
bool doc_render(Gen *g, DatasetDb db, const Person *p);
/* doc_enterprise(): append the document of `p`'s enterprise k (0 .. p->enterprises - 1) to g->j. */
void doc_enterprise(Gen *g, const Person *p, unsigned k);
/* enterprise_code(): the 10-digit code of `p`'s enterprise k, the key of its document. */
void enterprise_code(const Person *p, unsigned k, char out[DATASET_ENTERPRISE_CODE_LEN + 1]);
