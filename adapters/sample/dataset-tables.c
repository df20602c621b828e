/* dataset-tables.c: the sample dataset's static data (provinces, names, streets, companies, ...) */
#include "sample/dataset-internal.h"

const Province provinces[] = {
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

const uint16_t migration_targets[] = { 1, 79, 74, 75, 48, 31 };

const Weighted family_names[] = {
        { "Nguyễn", 380 }, { "Trần", 110 }, { "Lê", 95 },    { "Phạm", 70 }, { "Hoàng", 31 }, { "Huỳnh", 20 },
        { "Phan", 45 },    { "Vũ", 20 },    { "Võ", 19 },    { "Đặng", 21 }, { "Bùi", 20 },   { "Đỗ", 14 },
        { "Hồ", 13 },      { "Ngô", 13 },   { "Dương", 10 }, { "Lý", 5 },
};

const Weighted middle_names[2][12] = {
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

const char *const given_names[2][33] = {
        [SEX_MALE] = { "An",   "Anh", "Bảo",   "Bình",  "Cường", "Dũng",  "Duy",  "Đạt",  "Hải",   "Hiếu",  "Hoàng",
                       "Hùng", "Huy", "Khánh", "Khoa",  "Long",  "Lâm",   "Minh", "Nam",  "Nghĩa", "Phong", "Phúc",
                       "Quân", "Sơn", "Tài",   "Thắng", "Thành", "Trung", "Tuấn", "Tùng", "Việt",  "Vinh",  "Đức" },
        [SEX_FEMALE] = { "An",     "Anh",   "Chi",  "Dung", "Giang", "Hà",   "Hạnh",  "Hằng",  "Hiền", "Hoa",   "Hương",
                         "Huyền",  "Lan",   "Linh", "Loan", "Mai",   "My",   "Nga",   "Ngân",  "Ngọc", "Nhung", "Oanh",
                         "Phương", "Quỳnh", "Tâm",  "Thảo", "Thu",   "Thủy", "Trang", "Trinh", "Uyên", "Vân",   "Yến" },
};

const Weighted ethnicities[] = {
        { "Kinh", 853 }, { "Tày", 19 },  { "Thái", 18 }, { "Mường", 15 },  { "H'Mông", 15 },
        { "Khmer", 14 }, { "Nùng", 11 }, { "Dao", 9 },   { "Hoa", 8 },     { "Gia Rai", 5 },
        { "Ê Đê", 4 },   { "Ba Na", 3 }, { "Chăm", 2 },  { "Sán Dìu", 2 },
};

const char *const streets[] = {
        "Lê Lợi",      "Trần Hưng Đạo",   "Nguyễn Trãi", "Hai Bà Trưng",   "Lý Thường Kiệt",
        "Quang Trung", "Hùng Vương",      "Nguyễn Huệ",  "Lê Duẩn",        "Điện Biên Phủ",
        "Trần Phú",    "Phan Đình Phùng", "Nguyễn Du",   "Lê Thánh Tông",  "Bà Triệu",
        "Ngô Quyền",   "Nguyễn Văn Cừ",   "Võ Thị Sáu",  "Phan Chu Trinh", "Lê Hồng Phong",
};

const char *const company_words[] = {
        "Thương mại", "Dịch vụ", "Xây dựng", "Công nghệ",      "Sản xuất",  "Vận tải",
        "Nông sản",   "Du lịch", "Đầu tư",   "Xuất nhập khẩu", "Thực phẩm", "Cơ khí",
};
const char *const company_brands[] = {
        "Hoàng Long", "Minh Phát", "Thành Công", "An Phú",    "Việt Tiến", "Sao Mai",  "Phú Thịnh",  "Đại Việt",
        "Hưng Thịnh", "Tân Phát",  "Trường An",  "Bình Minh", "Hải Đăng",  "Kim Ngân", "Phương Nam", "Đông Á",
};
const char *const company_types[][2] = {
        { "Công ty TNHH", "Công ty trách nhiệm hữu hạn một thành viên" },
        { "Công ty TNHH", "Công ty trách nhiệm hữu hạn hai thành viên trở lên" },
        { "Công ty Cổ phần", "Công ty cổ phần" },
        { "Doanh nghiệp tư nhân", "Doanh nghiệp tư nhân" },
};
const char *const business_lines[] = {
        "Bán buôn thực phẩm",
        "Xây dựng nhà các loại",
        "Lập trình máy vi tính",
        "Vận tải hàng hóa bằng đường bộ",
        "Nhà hàng và dịch vụ ăn uống",
        "Bán lẻ hàng may mặc",
        "Sản xuất đồ gỗ",
        "Dịch vụ lưu trú ngắn ngày",
};

const char *const agencies[] = {
        "Sở Tài chính", "Sở Y tế",     "Sở Giáo dục và Đào tạo",    "Sở Tư pháp",
        "Sở Nội vụ",    "Sở Xây dựng", "Văn phòng Ủy ban nhân dân", "Sở Nông nghiệp và Môi trường",
};
const char *const servant_grades[][2] = {
        { "01.004", "Cán sự" },
        { "01.003", "Chuyên viên" },
        { "01.002", "Chuyên viên chính" },
        { "01.001", "Chuyên viên cao cấp" },
};
const char *const servant_positions[] = { "Chuyên viên", "Phó Trưởng phòng", "Trưởng phòng" };

const char *const universities[] = {
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
const char *const majors[][2] = {
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
const char *const school_names[] = {
        "Chu Văn An",    "Lê Quý Đôn",  "Nguyễn Du",     "Trần Phú",
        "Phan Bội Châu", "Nguyễn Trãi", "Lê Hồng Phong", "Trần Hưng Đạo",
};

const Offence offences[] = {
        { "173", "Trộm cắp tài sản" },
        { "318", "Gây rối trật tự công cộng" },
        { "260", "Vi phạm quy định về tham gia giao thông đường bộ" },
        { "321", "Đánh bạc" },
        { "174", "Lừa đảo chiếm đoạt tài sản" },
};
const char *const sentences[] = {
        "Phạt tiền 20.000.000 đồng",
        "06 tháng tù cho hưởng án treo",
        "12 tháng tù",
        "Cải tạo không giam giữ 01 năm",
};
