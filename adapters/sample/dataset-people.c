/* dataset-people.c: the generator: splitmix64 streams, dates, and the people of one household block */
#include <errno.h>
#include <stdio.h>

#include "sample/dataset-internal.h"

/*
 * How the population is built. People come in blocks of BLOCK_SIZE
 * consecutive indices; each block is one of:
 *   - a married couple (husband at slot 0, wife at 1) with 0..4 children,
 *   - a divorced or widowed parent (slot 0) with 1..3 children,
 *   - unrelated single people;
 * slots a family does not use hold single people. Everything about person i
 * is derived from splitmix64 streams keyed by (seed, stream, index), so one
 * block is computed without the others, `dataset_person_id()` needs no
 * database, and the dataset for N people is a prefix of the one for 10 N
 * (except links to people beyond N, which are left out).
 */

#define SERIAL_MULT 387403ULL /* coprime with 10^6: serials are a permutation */

/* ---- randomness: splitmix64 streams ---- */

static uint64_t mix64(uint64_t z)
{
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

void rng_init(Rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
        r->s = mix64(seed + 0x9e3779b97f4a7c15ULL * (stream + 1)) ^ mix64(index * 0xd1b54a32d192ed03ULL + stream);
}

static uint64_t rng_next(Rng *r)
{
        r->s += 0x9e3779b97f4a7c15ULL;
        return mix64(r->s);
}

uint64_t rng_below(Rng *r, uint64_t n)
{
        return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

int rng_range(Rng *r, int lo, int hi)
{
        return hi <= lo ? lo : lo + (int)rng_below(r, (uint64_t)(hi - lo + 1));
}

bool rng_permille(Rng *r, unsigned p)
{
        return rng_below(r, 1000) < p;
}

unsigned pick_weighted(Rng *r, const Weighted *t, size_t n, bool young)
{
        uint64_t total = 0, x;

        for (size_t i = 0; i < n; i++)
                total += young && t[i].w_young ? t[i].w_young : t[i].w;
        x = rng_below(r, total);
        for (size_t i = 0; i < n; i++) {
                uint64_t w = young && t[i].w_young ? t[i].w_young : t[i].w;
                if (x < w)
                        return (unsigned)i;
                x -= w;
        }
        return 0;
}

static unsigned pick_province(Rng *r)
{
        uint64_t total = 0, x;

        for (size_t i = 0; i < ELEMENTSOF(provinces); i++)
                total += provinces[i].weight;
        x = rng_below(r, total);
        for (size_t i = 0; i < ELEMENTSOF(provinces); i++) {
                if (x < provinces[i].weight)
                        return (unsigned)i;
                x -= provinces[i].weight;
        }
        return 0;
}

static unsigned province_index(uint16_t code)
{
        for (size_t i = 0; i < ELEMENTSOF(provinces); i++)
                if (provinces[i].code == code)
                        return (unsigned)i;
        return PROVINCE_HANOI;
}

static unsigned pick_migration(Rng *r)
{
        return province_index(migration_targets[PICK(r, migration_targets)]);
}

/* ---- dates (proleptic Gregorian day numbers, days since 1970-01-01) ---- */

static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static Date civil_from_days(int64_t z)
{
        int64_t era, doe, yoe, y, doy, mp;
        unsigned d, m;

        z += 719468;
        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
        m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
        return (Date){ (uint16_t)(y + (m <= 2)), (uint8_t)m, (uint8_t)d };
}

int64_t date_days(Date d)
{
        return days_from_civil(d.y, d.m, d.d);
}

Date date_add(Date d, int64_t days)
{
        return civil_from_days(date_days(d) + days);
}

const Date reference_date = { REF_Y, REF_M, REF_D };

Date rng_date(Rng *r, Date from, Date to)
{
        int64_t a = date_days(from), b = date_days(to);

        if (b <= a)
                return from;
        return civil_from_days(a + (int64_t)rng_below(r, (uint64_t)(b - a + 1)));
}

Date date_ymd(int y, int m, int d)
{
        return (Date){ (uint16_t)y, (uint8_t)m, (uint8_t)d };
}

int age_at(Date birth, Date at)
{
        int a = at.y - birth.y;

        if (at.m < birth.m || (at.m == birth.m && at.d < birth.d))
                a--;
        return a;
}

bool date_before(Date a, Date b)
{
        return date_days(a) < date_days(b);
}

Date date_min(Date a, Date b)
{
        return date_before(a, b) ? a : b;
}

Date date_max(Date a, Date b)
{
        return date_before(a, b) ? b : a;
}

/* ---- people ---- */

static unsigned id_sex_digit(const Person *p)
{
        return (p->birth.y >= 2000 ? 2 : 0) + (p->sex == SEX_FEMALE);
}

void person_name(const Person *p, char *buf, size_t size)
{
        snprintf(buf, size, "%s %s %s", family_names[p->family].s, middle_names[p->sex][p->middle].s,
                 given_names[p->sex][p->given]);
}

void pick_name(Rng *r, uint8_t sex, int birth_year, uint8_t *middle, uint8_t *given)
{
        bool young = birth_year >= 1985;

        *middle = (uint8_t)pick_weighted(r, middle_names[sex], ELEMENTSOF(middle_names[sex]), young);
        do
                *given = (uint8_t)PICK(r, given_names[sex]);
        while (streq(given_names[sex][*given], middle_names[sex][*middle].s));
}

static void person_base(uint64_t seed, uint64_t index, Person *p, uint8_t sex, int birth_year, unsigned birth_prov)
{
        Rng r;

        rng_init(&r, seed, STREAM_PERSON, index);
        memset(p, 0, sizeof(*p));
        p->index = index;
        p->sex = sex;
        p->birth = rng_date(&r, date_ymd(birth_year, 1, 1), date_ymd(birth_year, 12, 31));
        if (date_before(reference_date, p->birth))
                p->birth = date_ymd(birth_year, 1, 1);
        p->birth_prov = (uint8_t)birth_prov;
        p->home_prov = (uint8_t)(rng_permille(&r, 900) ? birth_prov : pick_province(&r));
        p->family = (uint8_t)pick_weighted(&r, family_names, ELEMENTSOF(family_names), false);
        pick_name(&r, sex, birth_year, &p->middle, &p->given);
        p->ethnicity = (uint8_t)pick_weighted(&r, ethnicities, ELEMENTSOF(ethnicities), false);
        p->spouse = p->father = p->mother = -1;
        p->head = index;
}

static void person_finish_id(Person *p)
{
        uint64_t serial = (1 + p->index * SERIAL_MULT) % 1000000;

        snprintf(p->id, sizeof(p->id), "%03u%u%02u%06u", provinces[p->birth_prov].code % 1000u, id_sex_digit(p) % 10u,
                 p->birth.y % 100u, (unsigned)serial);
}

static void household_address(uint64_t seed, uint64_t head, unsigned res_prov, Person *p)
{
        Rng r;
        unsigned nd = 0;

        rng_init(&r, seed, STREAM_HOUSEHOLD, head);
        while (nd < ELEMENTSOF(provinces[res_prov].districts) && provinces[res_prov].districts[nd])
                nd++;
        p->res_prov = (uint8_t)res_prov;
        p->district = (uint8_t)rng_below(&r, nd);
        p->ward = (uint8_t)rng_range(&r, 1, 15);
        p->street = (uint8_t)PICK(&r, streets);
        p->house = (uint16_t)rng_range(&r, 1, 250);
        p->poor_household = rng_permille(&r, 30);
        p->head = head;
}

/* Facts used across databases (work, public service, enterprises, ...). */
static void person_facts(uint64_t seed, Person *p)
{
        int age = age_at(p->birth, reference_date);
        int retire_age = p->sex == SEX_MALE ? 61 : 57; /* 2025 statutory ages, rounded */
        Rng r;

        rng_init(&r, seed, STREAM_FACTS, p->index);
        /* officials may not run enterprises (Law on Enterprises 2020, art. 17): the two exclude each other */
        p->civil_servant = age >= 23 && age < retire_age && p->index != 0 && rng_permille(&r, 90);
        p->employed = !p->civil_servant && age >= 18 && age < retire_age && (p->index == 0 || rng_permille(&r, 720));
        p->retired = age >= retire_age && rng_permille(&r, 550);
        p->university = p->civil_servant || (age >= 22 && rng_permille(&r, 300));
        p->disabled = rng_permille(&r, 15);
        if ((p->role == ROLE_HEAD || p->role == ROLE_SINGLE) && !p->civil_servant && age >= 25 && age <= 65 &&
            rng_permille(&r, 60))
                p->enterprises = rng_permille(&r, 150) ? 2 : 1;
        if (p->index == 0)
                p->enterprises = 1;
        p->agency = (uint8_t)PICK(&r, agencies);
        p->work_start = rng_date(&r, date_add(p->birth, 365LL * 18 + 100), date_add(p->birth, 365LL * 25));
        if (!date_before(p->work_start, date_add(reference_date, -90)))
                p->work_start = rng_date(&r, date_add(p->birth, 365LL * 18 + 100), date_add(reference_date, -90));
        p->servant_since = rng_date(&r, p->work_start, date_add(reference_date, -90));
}

static void make_single(uint64_t seed, uint64_t index, Person *p)
{
        Rng r;
        unsigned prov;
        int by, age;

        rng_init(&r, seed, STREAM_BLOCK, index ^ 0x5a5a5a5a5a5aULL);
        by = rng_range(&r, 1940, 2006);
        prov = pick_province(&r);
        person_base(seed, index, p, rng_permille(&r, 500) ? SEX_FEMALE : SEX_MALE, by, prov);
        p->role = ROLE_SINGLE;
        household_address(seed, index, rng_permille(&r, 700) ? prov : pick_migration(&r), p);
        age = age_at(p->birth, reference_date);
        p->marital = MARITAL_SINGLE;
        if (age >= 60 && rng_permille(&r, 450)) {
                p->marital = MARITAL_WIDOWED;
                p->since = rng_date(&r, date_add(p->birth, 365LL * 45), date_add(reference_date, -30));
        } else if (age >= 22 && rng_permille(&r, 220)) {
                p->marital = MARITAL_DIVORCED;
                p->since = rng_date(&r, date_add(p->birth, 365LL * 21), date_add(reference_date, -30));
        }
}

/* A married couple (slots 0 and 1) with up to `kids` children; block 0 is the demo citizen's. Return: slots used. */
static unsigned block_couple(uint64_t seed, uint64_t b, Rng *r, unsigned kids, Person out[BLOCK_SIZE])
{
        uint64_t base = b * BLOCK_SIZE;
        Person *h = &out[0], *w = &out[1];
        unsigned used, prov, res;
        int hy, wy, my;
        Date next;

        if (b == 0) {
                hy = 1990;
                prov = PROVINCE_HANOI;
                res = PROVINCE_HANOI;
        } else {
                hy = rng_range(r, 1950, 1998);
                prov = pick_province(r);
                res = rng_permille(r, 750) ? prov : pick_migration(r);
        }
        person_base(seed, base, h, SEX_MALE, hy, prov);
        if (b == 0) {
                h->family = FAMILY_NGUYEN;
                h->middle = MIDDLE_VAN;
                h->given = GIVEN_AN;
                h->home_prov = PROVINCE_HANOI;
        }
        /* (MIN/MAX evaluate their arguments twice: draw first) */
        wy = hy + rng_range(r, -2, 6);
        wy = MIN(wy, 2002);
        person_base(seed, base + 1, w, SEX_FEMALE, wy, rng_permille(r, 600) ? prov : pick_province(r));
        h->role = ROLE_HEAD;
        w->role = ROLE_SPOUSE;
        h->marital = w->marital = MARITAL_MARRIED;
        h->spouse = (int64_t)(base + 1);
        w->spouse = (int64_t)base;
        my = MAX(hy + 20, wy + 18) + rng_range(r, 0, 6);
        my = MIN(my, REF_Y - 1);
        h->since = w->since = rng_date(r, date_ymd(my, 1, 1), date_ymd(my, 12, 31));
        household_address(seed, base, res, h);
        household_address(seed, base, res, w);
        used = 2;
        next = date_add(h->since, rng_range(r, 300, 1100));
        for (unsigned k = 0; k < kids && used < BLOCK_SIZE; k++) {
                Person *c = &out[used];
                Date born = rng_date(r, next, date_add(next, 200));

                if (!date_before(born, date_add(reference_date, -1)) || born.y - wy > 44)
                        break;
                person_base(seed, base + used, c, rng_permille(r, 512) ? SEX_MALE : SEX_FEMALE, born.y, res);
                c->birth = born;
                c->family = h->family;
                c->home_prov = h->home_prov;
                c->ethnicity = h->ethnicity;
                c->role = ROLE_CHILD;
                c->father = (int64_t)base;
                c->mother = (int64_t)(base + 1);
                household_address(seed, base, res, c);
                used++;
                next = date_add(born, rng_range(r, 400, 2000));
        }
        return used;
}

/* A divorced or widowed parent (slot 0) with up to `kids` children. Return: slots used. */
static unsigned block_single_parent(uint64_t seed, uint64_t b, Rng *r, unsigned kids, Person out[BLOCK_SIZE])
{
        uint64_t base = b * BLOCK_SIZE;
        Person *h = &out[0];
        uint8_t sex = rng_permille(r, 700) ? SEX_FEMALE : SEX_MALE;
        int hy = rng_range(r, 1955, 1995);
        uint8_t kid_family = (uint8_t)pick_weighted(r, family_names, ELEMENTSOF(family_names), false);
        Date next, last = { 0 };
        unsigned used, prov, res;

        prov = pick_province(r);
        res = rng_permille(r, 750) ? prov : pick_migration(r);
        person_base(seed, base, h, sex, hy, prov);
        h->role = ROLE_HEAD;
        h->marital = rng_permille(r, 600) ? MARITAL_DIVORCED : MARITAL_WIDOWED;
        household_address(seed, base, res, h);
        if (sex == SEX_MALE)
                kid_family = h->family;
        used = 1;
        next = date_add(h->birth, 365LL * rng_range(r, 20, 30));
        for (unsigned k = 0; k < kids && used < BLOCK_SIZE; k++) {
                Person *c = &out[used];
                Date born = rng_date(r, next, date_add(next, 200));

                if (!date_before(born, date_add(reference_date, -1)) || (sex == SEX_FEMALE && born.y - hy > 44))
                        break;
                person_base(seed, base + used, c, rng_permille(r, 512) ? SEX_MALE : SEX_FEMALE, born.y, res);
                c->birth = born;
                c->family = kid_family;
                c->home_prov = sex == SEX_MALE ? h->home_prov : c->home_prov;
                c->ethnicity = h->ethnicity;
                c->role = ROLE_CHILD;
                if (sex == SEX_MALE)
                        c->father = (int64_t)base;
                else
                        c->mother = (int64_t)base;
                household_address(seed, base, res, c);
                used++;
                last = born;
                next = date_add(born, rng_range(r, 400, 1800));
        }
        h->since = date_min(rng_date(r, date_add(used > 1 ? last : date_add(h->birth, 365LL * 25), 200),
                                     date_add(reference_date, -30)),
                            date_add(reference_date, -1));
        if (used == 1) {
                /* no child fitted: an ordinary single household */
                h->role = ROLE_SINGLE;
        }
        return used;
}

void block_make(uint64_t seed, uint64_t b, Person out[BLOCK_SIZE])
{
        uint64_t base = b * BLOCK_SIZE;
        unsigned kind, kids, used = 0;
        Rng r;

        rng_init(&r, seed, STREAM_BLOCK, b);
        if (b == 0) {
                kind = BLOCK_COUPLE;
                kids = 2;
        } else {
                unsigned x = (unsigned)rng_below(&r, 100);
                kind = x < 70 ? BLOCK_COUPLE : x < 80 ? BLOCK_SINGLE_PARENT : BLOCK_SINGLES;
                if (kind == BLOCK_COUPLE) {
                        static const Weighted kid_counts[] = {
                                { "0", 15 }, { "1", 25 }, { "2", 40 }, { "3", 15 }, { "4", 5 }
                        };
                        kids = pick_weighted(&r, kid_counts, ELEMENTSOF(kid_counts), false);
                } else
                        kids = 1 + (unsigned)rng_below(&r, 3);
        }

        if (kind == BLOCK_COUPLE)
                used = block_couple(seed, b, &r, kids, out);
        else if (kind == BLOCK_SINGLE_PARENT)
                used = block_single_parent(seed, b, &r, kids, out);

        for (unsigned s = used; s < BLOCK_SIZE; s++)
                make_single(seed, base + s, &out[s]);
        for (unsigned s = 0; s < BLOCK_SIZE; s++) {
                out[s].block_kind = (uint8_t)kind;
                person_finish_id(&out[s]);
                person_facts(seed, &out[s]);
        }
}

int dataset_person_id(uint64_t seed, uint64_t index, char out[DATASET_ID_LEN + 1])
{
        Person block[BLOCK_SIZE];

        if (index >= DATASET_MAX_PEOPLE)
                return -ERANGE;
        block_make(seed, index / BLOCK_SIZE, block);
        memcpy(out, block[index % BLOCK_SIZE].id, DATASET_ID_LEN + 1);
        return 0;
}
