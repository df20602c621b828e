/* dataset-docs.c: the sample dataset's documents, one person's record in each national database (JSON) */
#include <inttypes.h>
#include <stdio.h>

#include "sample/dataset-internal.h"

/* ---- a small JSON writer (the documents are built, never parsed, here) ---- */

static void jw_raw(JsonW *j, const char *s, size_t n)
{
        if (j->oom)
                return;
        if (j->len + n + 1 > j->cap) {
                size_t cap = MAX(j->cap * 2, j->len + n + 256);
                char *b = realloc(j->buf, cap);
                if (!b) {
                        j->oom = true;
                        return;
                }
                j->buf = b;
                j->cap = cap;
        }
        memcpy(j->buf + j->len, s, n);
        j->len += n;
        j->buf[j->len] = '\0';
}

static void jw_comma(JsonW *j)
{
        if (j->len > 0) {
                char c = j->buf[j->len - 1];
                if (c != '{' && c != '[' && c != ':')
                        jw_raw(j, ",", 1);
        }
}

static void jw_quoted(JsonW *j, const char *s)
{
        const char *run = s;

        jw_raw(j, "\"", 1);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\' || c < 0x20) {
                        char esc[8];
                        jw_raw(j, run, (size_t)(s - run));
                        if (c == '"' || c == '\\')
                                snprintf(esc, sizeof(esc), "\\%c", c);
                        else
                                snprintf(esc, sizeof(esc), "\\u%04x", c);
                        jw_raw(j, esc, strlen(esc));
                        run = s + 1;
                }
        }
        jw_raw(j, run, (size_t)(s - run));
        jw_raw(j, "\"", 1);
}

void jw_begin(JsonW *j, char c)
{
        jw_comma(j);
        jw_raw(j, &c, 1);
}

void jw_end(JsonW *j, char c)
{
        jw_raw(j, &c, 1);
}

void jw_key(JsonW *j, const char *k)
{
        jw_comma(j);
        jw_quoted(j, k);
        jw_raw(j, ":", 1);
}

void jw_str(JsonW *j, const char *k, const char *v)
{
        if (k)
                jw_key(j, k);
        else
                jw_comma(j);
        if (v)
                jw_quoted(j, v);
        else
                jw_raw(j, "null", 4);
}

void jw_int(JsonW *j, const char *k, int64_t v)
{
        char b[32];

        if (k)
                jw_key(j, k);
        else
                jw_comma(j);
        snprintf(b, sizeof(b), "%" PRId64, v);
        jw_raw(j, b, strlen(b));
}

void jw_bool(JsonW *j, const char *k, bool v)
{
        jw_key(j, k);
        jw_raw(j, v ? "true" : "false", v ? 4 : 5);
}

/* "YYYY-MM-DD" (or "YYYY-MM" when `month`); null for the zero date. */
static void jw_date_or_month(JsonW *j, const char *k, Date d, bool month)
{
        char b[16];

        snprintf(b, sizeof(b), month ? "%04u-%02u" : "%04u-%02u-%02u", d.y, d.m, d.d);
        jw_str(j, k, d.y ? b : NULL);
}

static void jw_date(JsonW *j, const char *k, Date d)
{
        jw_date_or_month(j, k, d, false);
}

/* ---- documents ---- */

static const Person *gen_person(const Gen *g, int64_t index)
{
        return index >= 0 && (uint64_t)index < g->people ? &g->persons[index] : NULL;
}

static const char *district_name(const Person *p)
{
        return provinces[p->res_prov].districts[p->district];
}

static void jw_address(JsonW *j, const char *k, const Person *p)
{
        char b[64];

        jw_key(j, k);
        jw_begin(j, '{');
        snprintf(b, sizeof(b), "%u", p->house);
        jw_str(j, "house_number", b);
        jw_str(j, "street", streets[p->street]);
        snprintf(b, sizeof(b), "Phường %u", p->ward);
        jw_str(j, "ward", b);
        jw_str(j, "district", district_name(p));
        jw_str(j, "province", provinces[p->res_prov].name);
        jw_end(j, '}');
}

static void address_text(const Person *p, char *buf, size_t size)
{
        snprintf(buf, size, "%u %s, Phường %u, %s, %s", p->house, streets[p->street], p->ward, district_name(p),
                 provinces[p->res_prov].name);
}

static void household_id(const Person *p, char out[16])
{
        snprintf(out, 16, "%03u%09" PRIu64, provinces[p->res_prov].code,
                 (uint64_t)((p->head * 7919 + 123457) % 1000000000ULL));
}

static void doc_population(Gen *g, const Person *p)
{
        static const char *const roles[] = { "head", "spouse", "child", "head" };
        JsonW *j = &g->j;
        char name[128], hh[16];

        person_name(p, name, sizeof(name));
        household_id(p, hh);
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        jw_str(j, "full_name", name);
        jw_date(j, "birth_date", p->birth);
        jw_str(j, "sex", p->sex == SEX_MALE ? "male" : "female");
        jw_str(j, "ethnicity", ethnicities[p->ethnicity].s);
        jw_str(j, "nationality", "Việt Nam");
        jw_str(j, "place_of_birth", provinces[p->birth_prov].name);
        jw_str(j, "hometown", provinces[p->home_prov].name);
        jw_address(j, "permanent_address", p);
        jw_str(j, "household_id", hh);
        jw_str(j, "relationship_to_head", roles[p->role]);
        jw_end(j, '}');
}

/* A parent outside the dataset: a name only (father shares the child's family name). */
static void outside_parent_name(const Gen *g, const Person *p, uint8_t sex, char *buf, size_t size)
{
        uint8_t middle, given, family;
        int y = p->birth.y - 28;
        Rng r;

        rng_init(&r, g->seed, STREAM_PARENTS, p->index * 2 + sex);
        family = (uint8_t)pick_weighted(&r, family_names, ELEMENTSOF(family_names), false);
        if (sex == SEX_MALE)
                family = p->family;
        pick_name(&r, sex, y, &middle, &given);
        snprintf(buf, size, "%s %s %s", family_names[family].s, middle_names[sex][middle].s, given_names[sex][given]);
}

static void jw_parent(Gen *g, const char *k, const Person *child, int64_t index, uint8_t sex)
{
        const Person *parent = gen_person(g, index);
        JsonW *j = &g->j;
        char name[128];

        if (parent)
                person_name(parent, name, sizeof(name));
        else if (index >= 0)
        /* in the model but beyond N: same name as it would have */
        {
                Person block[BLOCK_SIZE];
                block_make(g->seed, (uint64_t)index / BLOCK_SIZE, block);
                person_name(&block[index % BLOCK_SIZE], name, sizeof(name));
        } else
                outside_parent_name(g, child, sex, name, sizeof(name));
        jw_key(j, k);
        jw_begin(j, '{');
        jw_str(j, "full_name", name);
        jw_str(j, "id", parent ? parent->id : NULL);
        jw_end(j, '}');
}

static void doc_birth_record(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        const Province *bp = &provinces[p->birth_prov];
        char name[128], b[160];
        Rng r;

        rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_BIRTH_RECORD, p->index);
        person_name(p, name, sizeof(name));
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        snprintf(b, sizeof(b), "%u/%u", (unsigned)rng_range(&r, 1, 950), p->birth.y);
        jw_str(j, "registration_number", b);
        snprintf(b, sizeof(b), "%02u", (unsigned)rng_range(&r, 1, 4));
        jw_str(j, "book", b);
        jw_date(j, "registered_date", date_min(date_add(p->birth, rng_range(&r, 3, 55)), reference_date));
        snprintf(b, sizeof(b), "Ủy ban nhân dân Phường %u, %s, %s", (unsigned)rng_range(&r, 1, 15), bp->districts[0],
                 bp->name);
        jw_str(j, "registration_authority", b);
        jw_str(j, "full_name", name);
        jw_str(j, "sex", p->sex == SEX_MALE ? "male" : "female");
        jw_date(j, "birth_date", p->birth);
        jw_str(j, "place_of_birth", bp->name);
        jw_parent(g, "father", p, p->father, SEX_MALE);
        jw_parent(g, "mother", p, p->mother, SEX_FEMALE);
        jw_end(j, '}');
}

static void doc_marital_status(Gen *g, const Person *p)
{
        static const char *const status[] = { "single", "married", "divorced", "widowed" };
        const Person *s = gen_person(g, p->spouse);
        JsonW *j = &g->j;
        char name[128];

        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        jw_str(j, "status", status[p->marital]);
        if (p->marital == MARITAL_MARRIED) {
                if (s)
                        person_name(s, name, sizeof(name));
                else {
                        Person block[BLOCK_SIZE];
                        block_make(g->seed, (uint64_t)p->spouse / BLOCK_SIZE, block);
                        person_name(&block[p->spouse % BLOCK_SIZE], name, sizeof(name));
                }
                jw_str(j, "spouse_id", s ? s->id : NULL);
                jw_str(j, "spouse_name", name);
        } else {
                jw_str(j, "spouse_id", NULL);
                jw_str(j, "spouse_name", NULL);
        }
        jw_date(j, "since", p->marital == MARITAL_SINGLE ? (Date){ 0 } : p->since);
        jw_end(j, '}');
}

static void doc_land_parcels(Gen *g, const Person *p)
{
        static const char *const uses[][2] = {
                { "ODT", "Đất ở tại đô thị" },
                { "LUC", "Đất chuyên trồng lúa nước" },
                { "CLN", "Đất trồng cây lâu năm" },
        };
        /* a couple's parcels are drawn once, from the husband's stream, and listed for both */
        const Person *owner = p->role == ROLE_SPOUSE ? gen_person(g, p->spouse) : p;
        const Person *co = NULL;
        JsonW *j = &g->j;
        bool residential = false, farm = false;
        char b[160];
        Rng r;

        if (owner && owner->role != ROLE_CHILD && age_at(owner->birth, reference_date) >= 20) {
                rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_LAND_PARCELS, owner->index);
                if (owner->block_kind == BLOCK_COUPLE && owner->role == ROLE_HEAD) {
                        residential = owner->index == 0 || rng_permille(&r, 600);
                        farm = rng_permille(&r, 250);
                        co = gen_person(g, owner->spouse);
                } else {
                        residential = rng_permille(&r, 250);
                        farm = rng_permille(&r, 100);
                }
        }
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        jw_key(j, "parcels");
        jw_begin(j, '[');
        for (unsigned k = 0; k < 2; k++) {
                unsigned use, area10;
                Date issued;

                if (!(k == 0 ? residential : farm))
                        continue;
                use = k == 0 ? 0 : 1 + (unsigned)rng_below(&r, 2);
                area10 = k == 0 ? (unsigned)rng_range(&r, 400, 3000) : (unsigned)rng_range(&r, 3000, 50000);
                issued = rng_date(&r, date_add(owner->birth, 365LL * 20), date_add(reference_date, -60));
                jw_begin(j, '{');
                snprintf(b, sizeof(b), "C%c %06" PRIu64, 'S' + (int)k, (owner->index * 7 + k * 3 + 100003) % 1000000);
                jw_str(j, "certificate_number", b);
                jw_int(j, "parcel_number", rng_range(&r, 1, 999));
                jw_int(j, "map_sheet", rng_range(&r, 1, 80));
                snprintf(b, sizeof(b), "%u.%u", area10 / 10, area10 % 10);
                jw_key(j, "area_m2");
                jw_raw(j, b, strlen(b));
                jw_str(j, "land_use", uses[use][0]);
                jw_str(j, "land_use_name", uses[use][1]);
                if (k == 0)
                        address_text(owner, b, sizeof(b));
                else
                        snprintf(b, sizeof(b), "Xứ đồng số %u, %s", (unsigned)rng_range(&r, 1, 30),
                                 provinces[owner->home_prov].name);
                jw_str(j, "address", b);
                jw_date(j, "issued", issued);
                jw_key(j, "owners");
                jw_begin(j, '[');
                jw_str(j, NULL, owner->id);
                if (co)
                        jw_str(j, NULL, co->id);
                jw_end(j, ']');
                jw_end(j, '}');
        }
        jw_end(j, ']');
        jw_end(j, '}');
}

void enterprise_code(const Person *p, unsigned k, char out[DATASET_ENTERPRISE_CODE_LEN + 1])
{
        uint64_t x = ((p->index * 2 + k) * 1234567ULL + 765431ULL) % 2000000ULL;

        snprintf(out, DATASET_ENTERPRISE_CODE_LEN + 1, "%02u%08" PRIu64, provinces[p->res_prov].code % 100, x);
}

/* The name, and the type index and random stream the enterprise document continues with. */
static void enterprise_name(uint64_t seed, const Person *p, unsigned k, char *name, size_t size, unsigned *ret_type,
                            Rng *ret_rng)
{
        Rng r;
        unsigned t, w;

        rng_init(&r, seed, STREAM_DOC_BASE + DATASET_DB_ENTERPRISE, p->index * 2 + k);
        t = PICK(&r, company_types);
        w = PICK(&r, company_words);
        snprintf(name, size, "%s %s %s", company_types[t][0], company_words[w],
                 company_brands[PICK(&r, company_brands)]);
        if (ret_type)
                *ret_type = t;
        if (ret_rng)
                *ret_rng = r;
}

static const char *enterprise_status(uint64_t seed, const Person *p, unsigned k)
{
        Rng r;
        uint64_t x;

        rng_init(&r, seed, STREAM_DOC_BASE + DATASET_DB_ENTERPRISE + 50, p->index * 2 + k);
        x = rng_below(&r, 100);
        return p->index == 0 || x < 85 ? "active" : x < 92 ? "suspended" : "dissolved";
}

void doc_enterprise(Gen *g, const Person *p, unsigned k)
{
        JsonW *j = &g->j;
        char code[DATASET_ENTERPRISE_CODE_LEN + 1], name[200], owner[128], b[200];
        Rng r;
        unsigned t;

        enterprise_code(p, k, code);
        enterprise_name(g->seed, p, k, name, sizeof(name), &t, &r);
        person_name(p, owner, sizeof(owner));
        jw_begin(j, '{');
        jw_str(j, "code", code);
        jw_str(j, "name", name);
        jw_str(j, "type", company_types[t][1]);
        jw_str(j, "status", enterprise_status(g->seed, p, k));
        jw_date(j, "registered_date", rng_date(&r, date_add(p->birth, 365LL * 23), date_add(reference_date, -90)));
        snprintf(b, sizeof(b), "%u %s, Phường %u, %s, %s", (unsigned)rng_range(&r, 1, 400), streets[PICK(&r, streets)],
                 (unsigned)rng_range(&r, 1, 15), district_name(p), provinces[p->res_prov].name);
        jw_str(j, "registered_address", b);
        jw_str(j, "business_line", business_lines[PICK(&r, business_lines)]);
        jw_int(j, "charter_capital_vnd", (int64_t)rng_range(&r, 1, 500) * 100000000LL);
        jw_key(j, "legal_representative");
        jw_begin(j, '{');
        jw_str(j, "full_name", owner);
        jw_end(j, '}');
        jw_end(j, '}');
}

static void doc_enterprises_by_owner(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        char code[DATASET_ENTERPRISE_CODE_LEN + 1], name[200];

        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        jw_key(j, "enterprises");
        jw_begin(j, '[');
        for (unsigned k = 0; k < p->enterprises; k++) {
                enterprise_code(p, k, code);
                enterprise_name(g->seed, p, k, name, sizeof(name), NULL, NULL);
                jw_begin(j, '{');
                jw_str(j, "code", code);
                jw_str(j, "name", name);
                jw_str(j, "status", enterprise_status(g->seed, p, k));
                jw_str(j, "role", "legal_representative");
                jw_end(j, '}');
        }
        jw_end(j, ']');
        jw_end(j, '}');
}

static void insurance_code(const Person *p, char out[11])
{
        snprintf(out, 11, "%02u%08" PRIu64, provinces[p->res_prov].code % 100,
                 (uint64_t)((p->index * 48271ULL + 1234ULL) % 100000000ULL));
}

static void agency_name(const Person *p, char *buf, size_t size)
{
        snprintf(buf, size, "%s %s", agencies[p->agency], provinces[p->res_prov].name);
}

static void doc_social_insurance(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        char book[11], b[200];
        bool worked = p->employed || p->civil_servant || p->retired;
        Date end = p->retired ? date_add(p->birth, 365LL * (p->sex == SEX_MALE ? 61 : 57)) : reference_date;
        unsigned n = 0;
        Rng r;

        rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_SOCIAL_INSURANCE, p->index);
        insurance_code(p, book);
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        jw_str(j, "book_number", book);
        jw_key(j, "periods");
        jw_begin(j, '[');
        if (worked && date_before(p->work_start, end)) {
                /* company periods split [work_start, company_end); a civil servant's last period is the agency */
                Date company_end = p->civil_servant ? p->servant_since : end;
                int64_t span = date_days(company_end) - date_days(p->work_start);
                int64_t salary = rng_range(&r, 30, 80) * 100000LL;

                n = span < 180 ? 0 : 1 + (unsigned)rng_below(&r, span > 3650 ? 4 : 2);
                for (unsigned k = 0; k < n + p->civil_servant; k++) {
                        bool agency = k == n;
                        Date from = agency ? p->servant_since : date_add(p->work_start, span * k / n);
                        Date to = agency ? end : date_add(p->work_start, span * (k + 1) / n - 1);
                        bool current = !p->retired && (agency || (k + 1 == n && !p->civil_servant));

                        jw_begin(j, '{');
                        if (agency)
                                agency_name(p, b, sizeof(b));
                        else
                                snprintf(b, sizeof(b), "%s %s %s", company_types[PICK(&r, company_types)][0],
                                         company_words[PICK(&r, company_words)],
                                         company_brands[PICK(&r, company_brands)]);
                        jw_str(j, "employer", b);
                        jw_date_or_month(j, "from", from, true);
                        jw_date_or_month(j, "to", current ? (Date){ 0 } : to, true);
                        jw_int(j, "salary_base_vnd", salary);
                        jw_end(j, '}');
                        salary += rng_range(&r, 5, 40) * 100000LL;
                }
        }
        jw_end(j, ']');
        jw_end(j, '}');
}

/* Return: false when the person is not a civil servant (no document). */
static bool doc_civil_servant(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        char b[200], name[128];
        int age = age_at(p->birth, reference_date);
        unsigned grade, pos;
        Rng r;

        if (!p->civil_servant)
                return false;
        rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_CIVIL_SERVANTS, p->index);
        grade = age < 30   ? (unsigned)rng_range(&r, 0, 1)
                : age < 45 ? (unsigned)rng_range(&r, 1, 2)
                           : (unsigned)rng_range(&r, 1, 3);
        pos = age < 35 ? 0 : (unsigned)rng_below(&r, ELEMENTSOF(servant_positions));
        person_name(p, name, sizeof(name));
        agency_name(p, b, sizeof(b));
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        jw_str(j, "full_name", name);
        jw_str(j, "agency", b);
        jw_str(j, "position", servant_positions[pos]);
        jw_key(j, "grade");
        jw_begin(j, '{');
        jw_str(j, "code", servant_grades[grade][0]);
        jw_str(j, "name", servant_grades[grade][1]);
        jw_end(j, '}');
        jw_date(j, "since", p->servant_since);
        jw_end(j, '}');
        return true;
}

static bool has_income(const Person *p)
{
        return p->employed || p->civil_servant || p->retired || p->enterprises > 0;
}

static int64_t tax_debt(uint64_t seed, const Person *p)
{
        Rng r;

        rng_init(&r, seed, STREAM_DOC_BASE + DATASET_DB_TAX, p->index);
        if (!has_income(p) || !rng_permille(&r, 40))
                return 0;
        return rng_range(&r, 1, 200) * 100000LL;
}

static void doc_tax(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        char b[64];
        bool income = has_income(p);

        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        /* since 1 July 2025 the personal id is the individual's tax code */
        jw_str(j, "tax_code", p->id);
        if (income) {
                snprintf(b, sizeof(b), "8%09" PRIu64, (uint64_t)((p->index * 9973ULL + 777ULL) % 1000000000ULL));
                jw_str(j, "legacy_tax_code", b);
        } else
                jw_str(j, "legacy_tax_code", NULL);
        snprintf(b, sizeof(b), "Thuế %s", provinces[p->res_prov].name);
        jw_str(j, "tax_office", b);
        jw_str(j, "status", income ? "active" : "no_obligation");
        jw_int(j, "outstanding_debt_vnd", tax_debt(g->seed, p));
        jw_end(j, '}');
}

static void doc_criminal_record(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        char b[64], name[128];
        int age = age_at(p->birth, reference_date);
        bool convicted;
        Rng r;

        rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_CRIMINAL_RECORD, p->index);
        convicted = age >= 18 && p->index != 0 && !p->civil_servant && rng_permille(&r, p->sex == SEX_MALE ? 25 : 5);
        person_name(p, name, sizeof(name));
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        snprintf(b, sizeof(b), "%06" PRIu64 "/%u/LLTP", (p->index * 7 + 11) % 1000000, REF_Y);
        jw_str(j, "record_number", b);
        jw_str(j, "full_name", name);
        jw_date(j, "birth_date", p->birth);
        jw_bool(j, "has_convictions", convicted);
        jw_key(j, "convictions");
        jw_begin(j, '[');
        if (convicted) {
                unsigned o = PICK(&r, offences);
                Date when = rng_date(&r, date_add(p->birth, 365LL * 18), date_add(reference_date, -200));

                jw_begin(j, '{');
                snprintf(b, sizeof(b), "Tòa án nhân dân %s", provinces[p->res_prov].name);
                jw_str(j, "court", b);
                jw_date(j, "judgment_date", when);
                jw_str(j, "offence", offences[o].name);
                snprintf(b, sizeof(b), "Điều %s Bộ luật Hình sự 2015", offences[o].code);
                jw_str(j, "legal_basis", b);
                jw_str(j, "sentence", sentences[PICK(&r, sentences)]);
                jw_bool(j, "expunged", date_days(reference_date) - date_days(when) > 3 * 365);
                jw_end(j, '}');
        }
        jw_end(j, ']');
        jw_date(j, "issued_date", rng_date(&r, date_add(reference_date, -60), date_add(reference_date, -1)));
        jw_end(j, '}');
}

/* Return: false when the person holds no licence (no document). */
static bool doc_driving_licence(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        int age = age_at(p->birth, reference_date);
        char b[64], name[128];
        Date issued, expires = { 0 };
        unsigned kind;
        Rng r;

        rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_DRIVING_LICENCES, p->index);
        if (age < 18 || (p->index != 0 && !rng_permille(&r, 620)))
                return false;
        kind = (unsigned)rng_below(&r, 100);
        kind = kind < 65 ? 0 : kind < 95 || age < 21 ? 1 : 2;
        issued = rng_date(&r, date_add(p->birth, 365LL * (kind == 2 ? 21 : 18) + 5), date_add(reference_date, -10));
        if (kind > 0)
                expires = date_add(issued, 3652);
        person_name(p, name, sizeof(name));
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        snprintf(b, sizeof(b), "%03u%09" PRIu64, provinces[p->res_prov].code,
                 (uint64_t)((p->index * 104729ULL + 17) % 1000000000ULL));
        jw_str(j, "licence_number", b);
        jw_str(j, "full_name", name);
        jw_date(j, "birth_date", p->birth);
        jw_key(j, "classes");
        jw_begin(j, '[');
        jw_str(j, NULL, kind == 2 ? "A" : "A1");
        if (kind == 1)
                jw_str(j, NULL, "B");
        if (kind == 2)
                jw_str(j, NULL, "C1");
        jw_end(j, ']');
        jw_date(j, "issued", issued);
        jw_date(j, "expires", expires);
        if (issued.y >= 2025)
                snprintf(b, sizeof(b), "Công an %s", provinces[p->res_prov].name);
        else
                snprintf(b, sizeof(b), "Sở Giao thông vận tải %s", provinces[p->res_prov].name);
        jw_str(j, "issued_by", b);
        jw_str(j, "status",
               expires.y && date_before(expires, reference_date) ? "expired"
               : rng_permille(&r, 10)                            ? "suspended"
                                                                 : "valid");
        jw_end(j, '}');
        return true;
}

/* Return: false when the person is not insured (no document). */
static bool doc_health_insurance(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        int age = age_at(p->birth, reference_date);
        const char *code, *group;
        unsigned level;
        char book[11], b[200], name[128];
        Date from = date_ymd(REF_Y, 1, 1), to = date_ymd(REF_Y, 12, 31);
        Rng r;

        rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_HEALTH_INSURANCE, p->index);
        if (age >= 6 && p->index != 0 && !p->civil_servant && !p->employed && !p->retired && !rng_permille(&r, 880))
                return false;
        if (age < 6) {
                code = "TE", group = "Trẻ em dưới 6 tuổi", level = 1;
                from = date_max(p->birth, date_ymd(REF_Y - 1, 1, 1));
                to = date_add(date_ymd(p->birth.y + 6, p->birth.m, p->birth.d), -1);
        } else if (p->civil_servant)
                code = "HC", group = "Cán bộ, công chức, viên chức", level = 4;
        else if (p->employed)
                code = "DN", group = "Người lao động trong doanh nghiệp", level = 4;
        else if (p->retired)
                code = "HT", group = "Người hưởng lương hưu", level = 3;
        else if (age < 23)
                code = "HS", group = "Học sinh, sinh viên", level = 4;
        else if (p->poor_household)
                code = "HN", group = "Người thuộc hộ nghèo", level = 2;
        else
                code = "GD", group = "Người tham gia theo hộ gia đình", level = 4;
        insurance_code(p, book);
        person_name(p, name, sizeof(name));
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        snprintf(b, sizeof(b), "%s%u%02u%s", code, level, provinces[p->res_prov].code % 100, book);
        jw_str(j, "card_number", b);
        jw_str(j, "full_name", name);
        jw_date(j, "birth_date", p->birth);
        jw_key(j, "beneficiary_group");
        jw_begin(j, '{');
        jw_str(j, "code", code);
        jw_str(j, "name", group);
        jw_end(j, '}');
        jw_int(j, "benefit_level", level);
        if (rng_permille(&r, 500))
                snprintf(b, sizeof(b), "Bệnh viện Đa khoa %s", provinces[p->res_prov].name);
        else
                snprintf(b, sizeof(b), "Trạm Y tế Phường %u, %s", p->ward, district_name(p));
        jw_str(j, "registered_hospital", b);
        jw_date(j, "valid_from", from);
        jw_date(j, "valid_to", to);
        jw_end(j, '}');
        return true;
}

static void jw_diploma(JsonW *j, const char *level, const char *title, const char *institution, const char *major,
                       int year, uint64_t number)
{
        char b[32];

        jw_begin(j, '{');
        jw_str(j, "level", level);
        jw_str(j, "title", title);
        jw_str(j, "institution", institution);
        jw_str(j, "major", major);
        jw_int(j, "graduation_year", year);
        snprintf(b, sizeof(b), "%c%07" PRIu64, 'A' + (char)(number % 20), number % 10000000);
        jw_str(j, "number", b);
        jw_end(j, '}');
}

static void doc_diplomas(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        int age = age_at(p->birth, reference_date);
        char b[200];
        Rng r;

        rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_DIPLOMAS, p->index);
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        jw_key(j, "diplomas");
        jw_begin(j, '[');
        if (age >= 16 && (p->university || rng_permille(&r, 950))) {
                snprintf(b, sizeof(b), "Trường THCS %s, %s", school_names[PICK(&r, school_names)],
                         provinces[p->res_prov].name);
                jw_diploma(j, "lower_secondary", "Bằng tốt nghiệp trung học cơ sở", b, NULL, p->birth.y + 15,
                           p->index * 3 + 1);
        }
        if (age >= 19 && (p->university || rng_permille(&r, 800))) {
                snprintf(b, sizeof(b), "Trường THPT %s, %s", school_names[PICK(&r, school_names)],
                         provinces[p->res_prov].name);
                jw_diploma(j, "upper_secondary", "Bằng tốt nghiệp trung học phổ thông", b, NULL, p->birth.y + 18,
                           p->index * 3 + 2);
        }
        if (p->university) {
                unsigned m = PICK(&r, majors);

                jw_diploma(j, "bachelor", majors[m][1], universities[PICK(&r, universities)], majors[m][0],
                           p->birth.y + 22 + (int)rng_below(&r, 2), p->index * 3 + 3);
                if (age >= 26 && rng_permille(&r, 150)) {
                        int year = p->birth.y + 26 + (int)rng_below(&r, 4);

                        jw_diploma(j, "master", "Bằng thạc sĩ", universities[PICK(&r, universities)], majors[m][0],
                                   MIN(year, REF_Y), p->index * 3 + 4000000);
                }
        }
        jw_end(j, ']');
        jw_end(j, '}');
}

static void doc_social_protection(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        int age = age_at(p->birth, reference_date);
        const Person *head = gen_person(g, (int64_t)p->head);
        bool poor = head ? head->poor_household : p->poor_household;
        Rng r;

        rng_init(&r, g->seed, STREAM_DOC_BASE + DATASET_DB_SOCIAL_PROTECTION, p->index);
        jw_begin(j, '{');
        jw_str(j, "id", p->id);
        jw_key(j, "benefits");
        jw_begin(j, '[');
        if (age >= 80 && !p->retired) {
                jw_begin(j, '{');
                jw_str(j, "code", "elderly_80");
                jw_str(j, "programme", "Trợ cấp xã hội hằng tháng cho người từ đủ 80 tuổi");
                jw_int(j, "monthly_amount_vnd", 500000);
                jw_date(j, "since", date_max(date_ymd(p->birth.y + 80, p->birth.m, 1), date_ymd(2021, 7, 1)));
                jw_end(j, '}');
        }
        if (p->disabled) {
                jw_begin(j, '{');
                jw_str(j, "code", "disability");
                jw_str(j, "programme", "Trợ cấp xã hội hằng tháng cho người khuyết tật nặng");
                jw_int(j, "monthly_amount_vnd", 750000);
                jw_date(j, "since",
                        rng_date(&r, date_max(p->birth, date_ymd(2015, 1, 1)), date_add(reference_date, -30)));
                jw_end(j, '}');
        }
        if (poor && p->role != ROLE_CHILD) {
                jw_begin(j, '{');
                jw_str(j, "code", "poor_household");
                jw_str(j, "programme", "Hỗ trợ hộ nghèo");
                jw_int(j, "monthly_amount_vnd", 300000);
                jw_date(j, "since", date_ymd(REF_Y - (int)rng_below(&r, 4), 1, 1));
                jw_end(j, '}');
        }
        jw_end(j, ']');
        jw_end(j, '}');
}

/* Each database's document of one person; DATASET_DB_ENTERPRISE has none (doc_enterprise()). */
static const struct {
        void (*render)(Gen *g, const Person *p);     /* every person has one */
        bool (*render_opt)(Gen *g, const Person *p); /* Return: false when the person has none */
} docs[_DATASET_DB_MAX] = {
        [DATASET_DB_POPULATION] = { doc_population, NULL },
        [DATASET_DB_BIRTH_RECORD] = { doc_birth_record, NULL },
        [DATASET_DB_MARITAL_STATUS] = { doc_marital_status, NULL },
        [DATASET_DB_LAND_PARCELS] = { doc_land_parcels, NULL },
        [DATASET_DB_ENTERPRISES_BY_OWNER] = { doc_enterprises_by_owner, NULL },
        [DATASET_DB_SOCIAL_INSURANCE] = { doc_social_insurance, NULL },
        [DATASET_DB_CIVIL_SERVANTS] = { NULL, doc_civil_servant },
        [DATASET_DB_TAX] = { doc_tax, NULL },
        [DATASET_DB_CRIMINAL_RECORD] = { doc_criminal_record, NULL },
        [DATASET_DB_DRIVING_LICENCES] = { NULL, doc_driving_licence },
        [DATASET_DB_HEALTH_INSURANCE] = { NULL, doc_health_insurance },
        [DATASET_DB_DIPLOMAS] = { doc_diplomas, NULL },
        [DATASET_DB_SOCIAL_PROTECTION] = { doc_social_protection, NULL },
};

bool doc_render(Gen *g, DatasetDb db, const Person *p)
{
        if (docs[db].render) {
                docs[db].render(g, p);
                return true;
        }
        return docs[db].render_opt && docs[db].render_opt(g, p);
}
