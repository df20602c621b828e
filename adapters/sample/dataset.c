/* dataset.c: generate the synthetic population into LMDB, and read it back */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>
#include <lmdb.h>

#include "sample/dataset.h"

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
 *
 * Documents are written in id order with MDB_APPEND (ids are sorted once),
 * GENERATE_BATCH people per write transaction: 100,000 people make ~1.2
 * million records, about 300 MB.
 */

#define BLOCK_SIZE 6
#define GENERATE_BATCH 20000 /* people per write transaction */
#define DATASET_FORMAT 1
#define SERIAL_MULT 387403ULL /* coprime with 10^6: serials are a permutation */
#define DB_META_NAME "meta"
#define REF_Y 2025
#define REF_M 7
#define REF_D 1

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

/* ---- tables ---- */

typedef struct Province {
        uint16_t code;
        const char *name;
        uint16_t weight;          /* population, tens of thousands (2019 census, rounded) */
        const char *districts[6]; /* urban districts, or the provincial city */
} Province;

static const Province provinces[] = {
        { 1,
          "Hà Nội",
          825,
          { "Quận Ba Đình", "Quận Hoàn Kiếm", "Quận Đống Đa", "Quận Cầu Giấy", "Quận Hai Bà Trưng",
            "Quận Long Biên" } },
        { 2, "Hà Giang", 85, { "Thành phố Hà Giang" } },
        { 4, "Cao Bằng", 53, { "Thành phố Cao Bằng" } },
        { 6, "Bắc Kạn", 31, { "Thành phố Bắc Kạn" } },
        { 8, "Tuyên Quang", 78, { "Thành phố Tuyên Quang" } },
        { 10, "Lào Cai", 73, { "Thành phố Lào Cai" } },
        { 11, "Điện Biên", 60, { "Thành phố Điện Biên Phủ" } },
        { 12, "Lai Châu", 46, { "Thành phố Lai Châu" } },
        { 14, "Sơn La", 125, { "Thành phố Sơn La" } },
        { 15, "Yên Bái", 82, { "Thành phố Yên Bái" } },
        { 17, "Hòa Bình", 85, { "Thành phố Hòa Bình" } },
        { 19, "Thái Nguyên", 129, { "Thành phố Thái Nguyên" } },
        { 20, "Lạng Sơn", 78, { "Thành phố Lạng Sơn" } },
        { 22, "Quảng Ninh", 132, { "Thành phố Hạ Long" } },
        { 24, "Bắc Giang", 180, { "Thành phố Bắc Giang" } },
        { 25, "Phú Thọ", 146, { "Thành phố Việt Trì" } },
        { 26, "Vĩnh Phúc", 115, { "Thành phố Vĩnh Yên" } },
        { 27, "Bắc Ninh", 137, { "Thành phố Bắc Ninh" } },
        { 30, "Hải Dương", 189, { "Thành phố Hải Dương" } },
        { 31, "Hải Phòng", 203, { "Quận Hồng Bàng", "Quận Lê Chân", "Quận Ngô Quyền" } },
        { 33, "Hưng Yên", 125, { "Thành phố Hưng Yên" } },
        { 34, "Thái Bình", 186, { "Thành phố Thái Bình" } },
        { 35, "Hà Nam", 85, { "Thành phố Phủ Lý" } },
        { 36, "Nam Định", 178, { "Thành phố Nam Định" } },
        { 37, "Ninh Bình", 98, { "Thành phố Ninh Bình" } },
        { 38, "Thanh Hóa", 364, { "Thành phố Thanh Hóa" } },
        { 40, "Nghệ An", 333, { "Thành phố Vinh" } },
        { 42, "Hà Tĩnh", 129, { "Thành phố Hà Tĩnh" } },
        { 44, "Quảng Bình", 90, { "Thành phố Đồng Hới" } },
        { 45, "Quảng Trị", 63, { "Thành phố Đông Hà" } },
        { 46, "Thừa Thiên Huế", 113, { "Thành phố Huế" } },
        { 48, "Đà Nẵng", 114, { "Quận Hải Châu", "Quận Thanh Khê", "Quận Sơn Trà" } },
        { 49, "Quảng Nam", 150, { "Thành phố Tam Kỳ" } },
        { 51, "Quảng Ngãi", 123, { "Thành phố Quảng Ngãi" } },
        { 52, "Bình Định", 149, { "Thành phố Quy Nhơn" } },
        { 54, "Phú Yên", 87, { "Thành phố Tuy Hòa" } },
        { 56, "Khánh Hòa", 123, { "Thành phố Nha Trang" } },
        { 58, "Ninh Thuận", 59, { "Thành phố Phan Rang - Tháp Chàm" } },
        { 60, "Bình Thuận", 123, { "Thành phố Phan Thiết" } },
        { 62, "Kon Tum", 54, { "Thành phố Kon Tum" } },
        { 64, "Gia Lai", 151, { "Thành phố Pleiku" } },
        { 66, "Đắk Lắk", 187, { "Thành phố Buôn Ma Thuột" } },
        { 67, "Đắk Nông", 62, { "Thành phố Gia Nghĩa" } },
        { 68, "Lâm Đồng", 130, { "Thành phố Đà Lạt" } },
        { 70, "Bình Phước", 99, { "Thành phố Đồng Xoài" } },
        { 72, "Tây Ninh", 117, { "Thành phố Tây Ninh" } },
        { 74, "Bình Dương", 243, { "Thành phố Thủ Dầu Một" } },
        { 75, "Đồng Nai", 310, { "Thành phố Biên Hòa" } },
        { 77, "Bà Rịa - Vũng Tàu", 115, { "Thành phố Vũng Tàu" } },
        { 79,
          "Hồ Chí Minh",
          899,
          { "Quận 1", "Quận 3", "Quận Bình Thạnh", "Quận Phú Nhuận", "Quận Gò Vấp", "Quận Tân Bình" } },
        { 80, "Long An", 169, { "Thành phố Tân An" } },
        { 82, "Tiền Giang", 176, { "Thành phố Mỹ Tho" } },
        { 83, "Bến Tre", 129, { "Thành phố Bến Tre" } },
        { 84, "Trà Vinh", 101, { "Thành phố Trà Vinh" } },
        { 86, "Vĩnh Long", 102, { "Thành phố Vĩnh Long" } },
        { 87, "Đồng Tháp", 160, { "Thành phố Cao Lãnh" } },
        { 89, "An Giang", 191, { "Thành phố Long Xuyên" } },
        { 91, "Kiên Giang", 172, { "Thành phố Rạch Giá" } },
        { 92, "Cần Thơ", 124, { "Quận Ninh Kiều", "Quận Bình Thủy", "Quận Cái Răng" } },
        { 93, "Hậu Giang", 73, { "Thành phố Vị Thanh" } },
        { 94, "Sóc Trăng", 120, { "Thành phố Sóc Trăng" } },
        { 95, "Bạc Liêu", 91, { "Thành phố Bạc Liêu" } },
        { 96, "Cà Mau", 119, { "Thành phố Cà Mau" } },
};
#define PROVINCE_HANOI 0

/* Where people move to (residence differs from birth province): province codes. */
static const uint16_t migration_targets[] = { 1, 79, 74, 75, 48, 31 };

typedef struct Weighted {
        const char *s;
        uint16_t w;       /* born before 1985 */
        uint16_t w_young; /* born 1985 or later (0: same as w) */
} Weighted;

static const Weighted family_names[] = {
        { "Nguyễn", 380 }, { "Trần", 110 }, { "Lê", 95 },    { "Phạm", 70 }, { "Hoàng", 31 }, { "Huỳnh", 20 },
        { "Phan", 45 },    { "Vũ", 20 },    { "Võ", 19 },    { "Đặng", 21 }, { "Bùi", 20 },   { "Đỗ", 14 },
        { "Hồ", 13 },      { "Ngô", 13 },   { "Dương", 10 }, { "Lý", 5 },
};
#define FAMILY_NGUYEN 0

static const Weighted middle_names[2][12] = {
        [SEX_MALE] = { { "Văn", 60, 18 },
                       { "Hữu", 8, 6 },
                       { "Đức", 8, 12 },
                       { "Minh", 5, 18 },
                       { "Quang", 5, 10 },
                       { "Công", 5, 5 },
                       { "Thành", 3, 6 },
                       { "Xuân", 3, 3 },
                       { "Đình", 6, 5 },
                       { "Quốc", 3, 8 },
                       { "Gia", 1, 8 },
                       { "Hoàng", 1, 6 } },
        [SEX_FEMALE] = { { "Thị", 70, 25 },
                         { "Ngọc", 6, 15 },
                         { "Thu", 5, 8 },
                         { "Thanh", 6, 8 },
                         { "Phương", 2, 8 },
                         { "Kim", 4, 5 },
                         { "Minh", 1, 10 },
                         { "Bảo", 1, 8 },
                         { "Khánh", 1, 7 },
                         { "Mai", 3, 5 },
                         { "Hồng", 4, 4 },
                         { "Bích", 3, 1 } },
};
#define MIDDLE_VAN 0

static const char *const given_names[2][33] = {
        [SEX_MALE] = { "An",   "Anh", "Bảo",   "Bình",  "Cường", "Dũng",  "Duy",  "Đạt",  "Hải",   "Hiếu",  "Hoàng",
                       "Hùng", "Huy", "Khánh", "Khoa",  "Long",  "Lâm",   "Minh", "Nam",  "Nghĩa", "Phong", "Phúc",
                       "Quân", "Sơn", "Tài",   "Thắng", "Thành", "Trung", "Tuấn", "Tùng", "Việt",  "Vinh",  "Đức" },
        [SEX_FEMALE] = { "An",     "Anh",   "Chi",  "Dung", "Giang", "Hà",   "Hạnh",  "Hằng",  "Hiền", "Hoa",   "Hương",
                         "Huyền",  "Lan",   "Linh", "Loan", "Mai",   "My",   "Nga",   "Ngân",  "Ngọc", "Nhung", "Oanh",
                         "Phương", "Quỳnh", "Tâm",  "Thảo", "Thu",   "Thủy", "Trang", "Trinh", "Uyên", "Vân",   "Yến" },
};
#define GIVEN_AN 0

static const Weighted ethnicities[] = {
        { "Kinh", 853 }, { "Tày", 19 },  { "Thái", 18 }, { "Mường", 15 },  { "H'Mông", 15 },
        { "Khmer", 14 }, { "Nùng", 11 }, { "Dao", 9 },   { "Hoa", 8 },     { "Gia Rai", 5 },
        { "Ê Đê", 4 },   { "Ba Na", 3 }, { "Chăm", 2 },  { "Sán Dìu", 2 },
};

static const char *const streets[] = {
        "Lê Lợi",      "Trần Hưng Đạo",   "Nguyễn Trãi", "Hai Bà Trưng",   "Lý Thường Kiệt",
        "Quang Trung", "Hùng Vương",      "Nguyễn Huệ",  "Lê Duẩn",        "Điện Biên Phủ",
        "Trần Phú",    "Phan Đình Phùng", "Nguyễn Du",   "Lê Thánh Tông",  "Bà Triệu",
        "Ngô Quyền",   "Nguyễn Văn Cừ",   "Võ Thị Sáu",  "Phan Chu Trinh", "Lê Hồng Phong",
};

static const char *const company_words[] = {
        "Thương mại", "Dịch vụ", "Xây dựng", "Công nghệ",      "Sản xuất",  "Vận tải",
        "Nông sản",   "Du lịch", "Đầu tư",   "Xuất nhập khẩu", "Thực phẩm", "Cơ khí",
};
static const char *const company_brands[] = {
        "Hoàng Long", "Minh Phát", "Thành Công", "An Phú",    "Việt Tiến", "Sao Mai",  "Phú Thịnh",  "Đại Việt",
        "Hưng Thịnh", "Tân Phát",  "Trường An",  "Bình Minh", "Hải Đăng",  "Kim Ngân", "Phương Nam", "Đông Á",
};
static const char *const company_types[][2] = {
        { "Công ty TNHH", "Công ty trách nhiệm hữu hạn một thành viên" },
        { "Công ty TNHH", "Công ty trách nhiệm hữu hạn hai thành viên trở lên" },
        { "Công ty Cổ phần", "Công ty cổ phần" },
        { "Doanh nghiệp tư nhân", "Doanh nghiệp tư nhân" },
};
static const char *const business_lines[] = {
        "Bán buôn thực phẩm",
        "Xây dựng nhà các loại",
        "Lập trình máy vi tính",
        "Vận tải hàng hóa bằng đường bộ",
        "Nhà hàng và dịch vụ ăn uống",
        "Bán lẻ hàng may mặc",
        "Sản xuất đồ gỗ",
        "Dịch vụ lưu trú ngắn ngày",
};

static const char *const agencies[] = {
        "Sở Tài chính", "Sở Y tế",     "Sở Giáo dục và Đào tạo",    "Sở Tư pháp",
        "Sở Nội vụ",    "Sở Xây dựng", "Văn phòng Ủy ban nhân dân", "Sở Nông nghiệp và Môi trường",
};
static const char *const servant_grades[][2] = {
        { "01.004", "Cán sự" },
        { "01.003", "Chuyên viên" },
        { "01.002", "Chuyên viên chính" },
        { "01.001", "Chuyên viên cao cấp" },
};
static const char *const servant_positions[] = { "Chuyên viên", "Phó Trưởng phòng", "Trưởng phòng" };

static const char *const universities[] = {
        "Đại học Quốc gia Hà Nội",
        "Đại học Bách khoa Hà Nội",
        "Đại học Kinh tế Quốc dân",
        "Đại học Quốc gia Thành phố Hồ Chí Minh",
        "Đại học Huế",
        "Đại học Đà Nẵng",
        "Đại học Cần Thơ",
        "Học viện Tài chính",
        "Đại học Y Hà Nội",
        "Đại học Sư phạm Hà Nội",
        "Đại học Luật Hà Nội",
        "Đại học Kinh tế Thành phố Hồ Chí Minh",
};
static const char *const majors[][2] = {
        { "Kế toán", "Bằng cử nhân" },
        { "Công nghệ thông tin", "Bằng kỹ sư" },
        { "Luật", "Bằng cử nhân" },
        { "Quản trị kinh doanh", "Bằng cử nhân" },
        { "Y khoa", "Bằng bác sĩ" },
        { "Sư phạm Toán", "Bằng cử nhân" },
        { "Kỹ thuật xây dựng", "Bằng kỹ sư" },
        { "Ngôn ngữ Anh", "Bằng cử nhân" },
        { "Tài chính - Ngân hàng", "Bằng cử nhân" },
};
static const char *const school_names[] = {
        "Chu Văn An",    "Lê Quý Đôn",  "Nguyễn Du",     "Trần Phú",
        "Phan Bội Châu", "Nguyễn Trãi", "Lê Hồng Phong", "Trần Hưng Đạo",
};

static const struct {
        const char *code, *name;
} offences[] = {
        { "173", "Trộm cắp tài sản" },
        { "318", "Gây rối trật tự công cộng" },
        { "260", "Vi phạm quy định về tham gia giao thông đường bộ" },
        { "321", "Đánh bạc" },
        { "174", "Lừa đảo chiếm đoạt tài sản" },
};
static const char *const sentences[] = {
        "Phạt tiền 20.000.000 đồng",
        "06 tháng tù cho hưởng án treo",
        "12 tháng tù",
        "Cải tạo không giam giữ 01 năm",
};

/* ---- randomness: splitmix64 streams ---- */

typedef struct Rng {
        uint64_t s;
} Rng;

static uint64_t mix64(uint64_t z)
{
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static void rng_init(Rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
        r->s = mix64(seed + 0x9e3779b97f4a7c15ULL * (stream + 1)) ^ mix64(index * 0xd1b54a32d192ed03ULL + stream);
}

static uint64_t rng_next(Rng *r)
{
        r->s += 0x9e3779b97f4a7c15ULL;
        return mix64(r->s);
}

static uint64_t rng_below(Rng *r, uint64_t n)
{
        return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static int rng_range(Rng *r, int lo, int hi)
{
        return hi <= lo ? lo : lo + (int)rng_below(r, (uint64_t)(hi - lo + 1));
}

static bool rng_permille(Rng *r, unsigned p)
{
        return rng_below(r, 1000) < p;
}

static unsigned pick_weighted(Rng *r, const Weighted *t, size_t n, bool young)
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

#define PICK(r, table) ((unsigned)rng_below((r), ELEMENTSOF(table)))

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

typedef struct Date {
        uint16_t y;
        uint8_t m, d;
} Date;

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

static int64_t date_days(Date d)
{
        return days_from_civil(d.y, d.m, d.d);
}

static Date date_add(Date d, int64_t days)
{
        return civil_from_days(date_days(d) + days);
}

static const Date reference_date = { REF_Y, REF_M, REF_D };

/* A random date in [from, to] (clamped: to < from gives from). */
static Date rng_date(Rng *r, Date from, Date to)
{
        int64_t a = date_days(from), b = date_days(to);

        if (b <= a)
                return from;
        return civil_from_days(a + (int64_t)rng_below(r, (uint64_t)(b - a + 1)));
}

static Date date_ymd(int y, int m, int d)
{
        return (Date){ (uint16_t)y, (uint8_t)m, (uint8_t)d };
}

static int age_at(Date birth, Date at)
{
        int a = at.y - birth.y;

        if (at.m < birth.m || (at.m == birth.m && at.d < birth.d))
                a--;
        return a;
}

static bool date_before(Date a, Date b)
{
        return date_days(a) < date_days(b);
}

static Date date_min(Date a, Date b)
{
        return date_before(a, b) ? a : b;
}

static Date date_max(Date a, Date b)
{
        return date_before(a, b) ? b : a;
}

/* ---- people ---- */

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

static unsigned id_sex_digit(const Person *p)
{
        return (p->birth.y >= 2000 ? 2 : 0) + (p->sex == SEX_FEMALE);
}

static void person_name(const Person *p, char *buf, size_t size)
{
        snprintf(buf, size, "%s %s %s", family_names[p->family].s, middle_names[p->sex][p->middle].s,
                 given_names[p->sex][p->given]);
}

static void pick_name(Rng *r, uint8_t sex, int birth_year, uint8_t *middle, uint8_t *given)
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

/*
 * block_make(): the BLOCK_SIZE people of block `b` (indices b*6 .. b*6+5),
 * with ids, households and links inside the block.
 */
static void block_make(uint64_t seed, uint64_t b, Person out[BLOCK_SIZE])
{
        uint64_t base = b * BLOCK_SIZE;
        unsigned kind, kids, used = 0, res, prov;
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

        if (kind == BLOCK_COUPLE) {
                Person *h = &out[0], *w = &out[1];
                int hy, wy, my;
                Date next;

                if (b == 0) {
                        hy = 1990;
                        prov = PROVINCE_HANOI;
                        res = PROVINCE_HANOI;
                } else {
                        hy = rng_range(&r, 1950, 1998);
                        prov = pick_province(&r);
                        res = rng_permille(&r, 750) ? prov : pick_migration(&r);
                }
                person_base(seed, base, h, SEX_MALE, hy, prov);
                if (b == 0) {
                        h->family = FAMILY_NGUYEN;
                        h->middle = MIDDLE_VAN;
                        h->given = GIVEN_AN;
                        h->home_prov = PROVINCE_HANOI;
                }
                /* (MIN/MAX evaluate their arguments twice: draw first) */
                wy = hy + rng_range(&r, -2, 6);
                wy = MIN(wy, 2002);
                person_base(seed, base + 1, w, SEX_FEMALE, wy, rng_permille(&r, 600) ? prov : pick_province(&r));
                h->role = ROLE_HEAD;
                w->role = ROLE_SPOUSE;
                h->marital = w->marital = MARITAL_MARRIED;
                h->spouse = (int64_t)(base + 1);
                w->spouse = (int64_t)base;
                my = MAX(hy + 20, wy + 18) + rng_range(&r, 0, 6);
                my = MIN(my, REF_Y - 1);
                h->since = w->since = rng_date(&r, date_ymd(my, 1, 1), date_ymd(my, 12, 31));
                household_address(seed, base, res, h);
                household_address(seed, base, res, w);
                used = 2;
                next = date_add(h->since, rng_range(&r, 300, 1100));
                for (unsigned k = 0; k < kids && used < BLOCK_SIZE; k++) {
                        Person *c = &out[used];
                        Date born = rng_date(&r, next, date_add(next, 200));

                        if (!date_before(born, date_add(reference_date, -1)) || born.y - wy > 44)
                                break;
                        person_base(seed, base + used, c, rng_permille(&r, 512) ? SEX_MALE : SEX_FEMALE, born.y, res);
                        c->birth = born;
                        c->family = h->family;
                        c->home_prov = h->home_prov;
                        c->ethnicity = h->ethnicity;
                        c->role = ROLE_CHILD;
                        c->father = (int64_t)base;
                        c->mother = (int64_t)(base + 1);
                        household_address(seed, base, res, c);
                        used++;
                        next = date_add(born, rng_range(&r, 400, 2000));
                }
        } else if (kind == BLOCK_SINGLE_PARENT) {
                Person *h = &out[0];
                uint8_t sex = rng_permille(&r, 700) ? SEX_FEMALE : SEX_MALE;
                int hy = rng_range(&r, 1955, 1995);
                uint8_t kid_family = (uint8_t)pick_weighted(&r, family_names, ELEMENTSOF(family_names), false);
                Date next, last = { 0 };

                prov = pick_province(&r);
                res = rng_permille(&r, 750) ? prov : pick_migration(&r);
                person_base(seed, base, h, sex, hy, prov);
                h->role = ROLE_HEAD;
                h->marital = rng_permille(&r, 600) ? MARITAL_DIVORCED : MARITAL_WIDOWED;
                household_address(seed, base, res, h);
                if (sex == SEX_MALE)
                        kid_family = h->family;
                used = 1;
                next = date_add(h->birth, 365LL * rng_range(&r, 20, 30));
                for (unsigned k = 0; k < kids && used < BLOCK_SIZE; k++) {
                        Person *c = &out[used];
                        Date born = rng_date(&r, next, date_add(next, 200));

                        if (!date_before(born, date_add(reference_date, -1)) || (sex == SEX_FEMALE && born.y - hy > 44))
                                break;
                        person_base(seed, base + used, c, rng_permille(&r, 512) ? SEX_MALE : SEX_FEMALE, born.y, res);
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
                        next = date_add(born, rng_range(&r, 400, 1800));
                }
                h->since = date_min(rng_date(&r, date_add(used > 1 ? last : date_add(h->birth, 365LL * 25), 200),
                                             date_add(reference_date, -30)),
                                    date_add(reference_date, -1));
                if (used == 1) {
                        /* no child fitted: an ordinary single household */
                        h->role = ROLE_SINGLE;
                }
        }

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

/* ---- a small JSON writer (the documents are built, never parsed, here) ---- */

typedef struct JsonW {
        char *buf;
        size_t len, cap;
        bool oom;
} JsonW;

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

static void jw_begin(JsonW *j, char c)
{
        jw_comma(j);
        jw_raw(j, &c, 1);
}

static void jw_end(JsonW *j, char c)
{
        jw_raw(j, &c, 1);
}

static void jw_key(JsonW *j, const char *k)
{
        jw_comma(j);
        jw_quoted(j, k);
        jw_raw(j, ":", 1);
}

static void jw_str(JsonW *j, const char *k, const char *v)
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

static void jw_int(JsonW *j, const char *k, int64_t v)
{
        char b[32];

        if (k)
                jw_key(j, k);
        else
                jw_comma(j);
        snprintf(b, sizeof(b), "%" PRId64, v);
        jw_raw(j, b, strlen(b));
}

static void jw_bool(JsonW *j, const char *k, bool v)
{
        jw_key(j, k);
        jw_raw(j, v ? "true" : "false", v ? 4 : 5);
}

static void jw_date(JsonW *j, const char *k, Date d)
{
        char b[16];

        if (d.y == 0) {
                jw_str(j, k, NULL);
                return;
        }
        snprintf(b, sizeof(b), "%04u-%02u-%02u", d.y, d.m, d.d);
        jw_str(j, k, b);
}

static void jw_month(JsonW *j, const char *k, Date d)
{
        char b[16];

        if (d.y == 0) {
                jw_str(j, k, NULL);
                return;
        }
        snprintf(b, sizeof(b), "%04u-%02u", d.y, d.m);
        jw_str(j, k, b);
}

/* ---- documents ---- */

typedef struct Gen {
        uint64_t seed, people;
        Person *persons; /* [people] */
        JsonW j;
        char tmp[512];
} Gen;

typedef struct Enterprise {
        char code[DATASET_ENTERPRISE_CODE_LEN + 1];
        uint64_t owner;
        uint8_t k;
} Enterprise;

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

static void enterprise_code(const Person *p, unsigned k, char out[DATASET_ENTERPRISE_CODE_LEN + 1])
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

static void doc_enterprise(Gen *g, const Person *p, unsigned k)
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
                        jw_month(j, "from", from);
                        jw_month(j, "to", current ? (Date){ 0 } : to);
                        jw_int(j, "salary_base_vnd", salary);
                        jw_end(j, '}');
                        salary += rng_range(&r, 5, 40) * 100000LL;
                }
        }
        jw_end(j, ']');
        jw_end(j, '}');
}

static void doc_civil_servant(Gen *g, const Person *p)
{
        JsonW *j = &g->j;
        char b[200], name[128];
        int age = age_at(p->birth, reference_date);
        unsigned grade, pos;
        Rng r;

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

static int mdb_to_errno(int rc)
{
        switch (rc) {
        case 0:
                return 0;
        case MDB_NOTFOUND:
                return -ENOENT;
        case ENOMEM:
                return -ENOMEM;
        case ENOENT:
                return -ENOENT;
        case EACCES:
                return -EACCES;
        case ENOSPC:
        case MDB_MAP_FULL:
                return -ENOSPC;
        default:
                return -EIO;
        }
}

static void mdb_txn_abortp(MDB_txn **t)
{
        if (*t)
                mdb_txn_abort(*t);
}

static void mdb_env_closep(MDB_env **e)
{
        if (*e)
                mdb_env_close(*e);
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
        return mdb_to_errno(mdb_put(txn, dbi, &k, &v, flags));
}

static int cmp_person_id(const void *a, const void *b, void *arg)
{
        const Person *persons = arg;

        return memcmp(persons[*(const uint32_t *)a].id, persons[*(const uint32_t *)b].id, DATASET_ID_LEN);
}

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
        return mdb_to_errno(rc);
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
                struct {
                        DatasetDb db;
                        void (*fn)(Gen *, const Person *);
                        bool (*opt)(Gen *, const Person *);
                } docs[] = {
                        { DATASET_DB_POPULATION, doc_population, NULL },
                        { DATASET_DB_BIRTH_RECORD, doc_birth_record, NULL },
                        { DATASET_DB_MARITAL_STATUS, doc_marital_status, NULL },
                        { DATASET_DB_LAND_PARCELS, doc_land_parcels, NULL },
                        { DATASET_DB_ENTERPRISES_BY_OWNER, doc_enterprises_by_owner, NULL },
                        { DATASET_DB_SOCIAL_INSURANCE, doc_social_insurance, NULL },
                        { DATASET_DB_CIVIL_SERVANTS, p->civil_servant ? doc_civil_servant : NULL, NULL },
                        { DATASET_DB_TAX, doc_tax, NULL },
                        { DATASET_DB_CRIMINAL_RECORD, doc_criminal_record, NULL },
                        { DATASET_DB_DRIVING_LICENCES, NULL, doc_driving_licence },
                        { DATASET_DB_HEALTH_INSURANCE, NULL, doc_health_insurance },
                        { DATASET_DB_DIPLOMAS, doc_diplomas, NULL },
                        { DATASET_DB_SOCIAL_PROTECTION, doc_social_protection, NULL },
                };

                for (size_t d = 0; d < ELEMENTSOF(docs); d++) {
                        g->j.len = 0;
                        if (docs[d].fn)
                                docs[d].fn(g, p);
                        else if (!docs[d].opt || !docs[d].opt(g, p))
                                continue;
                        r = put(*txn, dbis[docs[d].db], p->id, &g->j, MDB_APPEND);
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
                return mdb_to_errno(rc);
        if (mapsize > 0 && (rc = mdb_env_set_mapsize(env, mapsize)) != 0)
                return mdb_to_errno(rc);
        if ((rc = mdb_env_set_maxdbs(env, _DATASET_DB_MAX + 4)) != 0 || (rc = mdb_env_set_maxreaders(env, 512)) != 0)
                return mdb_to_errno(rc);
        rc = mdb_env_open(env, path, flags, 0644);
        if (rc != 0)
                return mdb_to_errno(rc);
        *ret = TAKE_PTR(env);
        return 0;
}

int dataset_generate(const char *dir, uint64_t people, uint64_t seed)
{
        _cleanup_(mdb_env_closep) MDB_env *env = NULL;
        _cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
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
                return mdb_to_errno(rc);
        rc = mdb_dbi_open(txn, DB_META_NAME, MDB_CREATE, &meta);
        if (rc != 0)
                return mdb_to_errno(rc);
        if (meta_read(txn, meta, &old_people, &old_seed, &old_format) == 0 && old_people == people &&
            old_seed == seed && old_format == DATASET_FORMAT)
                return DATASET_UNCHANGED;
        for (int d = 0; d < _DATASET_DB_MAX; d++) {
                rc = mdb_dbi_open(txn, db_names[d], MDB_CREATE, &dbis[d]);
                if (rc == 0)
                        rc = mdb_drop(txn, dbis[d], 0);
                if (rc != 0)
                        return mdb_to_errno(rc);
        }
        rc = mdb_drop(txn, meta, 0);
        if (rc != 0)
                return mdb_to_errno(rc);

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
                return mdb_to_errno(rc);
        rc = mdb_txn_commit(TAKE_PTR(txn));
        if (rc != 0)
                return mdb_to_errno(rc);
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
        _cleanup_(mdb_txn_abortp) MDB_txn *txn = NULL;
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
                return mdb_to_errno(rc);
        rc = mdb_dbi_open(txn, DB_META_NAME, 0, &meta);
        if (rc != 0)
                return rc == MDB_NOTFOUND ? -ENOENT : mdb_to_errno(rc);
        r = meta_read(txn, meta, &d->people, &d->seed, &format);
        if (r < 0)
                return r;
        if (format != DATASET_FORMAT)
                return -EIO;
        for (int i = 0; i < _DATASET_DB_MAX; i++) {
                rc = mdb_dbi_open(txn, db_names[i], 0, &d->dbis[i]);
                if (rc != 0)
                        return rc == MDB_NOTFOUND ? -ENOENT : mdb_to_errno(rc);
        }
        /* handles opened in a read-only transaction stay valid once it commits */
        rc = mdb_txn_commit(TAKE_PTR(txn));
        if (rc != 0)
                return mdb_to_errno(rc);
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
                return mdb_to_errno(rc);
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
                return mdb_to_errno(rc);
        k = (MDB_val){ strlen(key), (void *)key };
        rc = mdb_get(r->txn, r->d->dbis[db], &k, &v);
        if (rc != 0) {
                mdb_txn_reset(r->txn);
                return mdb_to_errno(rc);
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
