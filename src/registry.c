/*
 * registry.c — people, households, visits (入户走访) and their search.
 * Places (buildings, organisations, enterprises, facilities) are in
 * registry_places.c; both share the helpers declared in registry.h.
 */
#include "registry.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "validate.h"

/* RFC 3339 now, formatted once per second per thread (bulk writes call it
 * for every row). */
static void now_rfc3339(char out[32])
{
    static _Thread_local int64_t last = -1;
    static _Thread_local char buf[32];
    int64_t t = clock_now();
    if (t != last) {
        clock_format(t, buf);
        last = t;
    }
    memcpy(out, buf, 32);
}

/* ---- care tags ---------------------------------------------------------- */

const care_tag care_tags[] = {
    {"elderly_alone", "独居老人", 7},
    {"elderly_empty_nest", "空巢老人", 14},
    {"elderly_80", "高龄老人", 14},
    {"disabled", "残疾人", 30},
    {"low_income", "低保", 30},
    {"extreme_poverty", "特困人员", 14},
    {"left_behind_child", "留守儿童", 30},
    {"veteran", "退役军人", 90},
    {"serious_illness", "大病患者", 30},
    {"mental_disorder", "严重精神障碍患者", 14},
    {"community_correction", "社区矫正人员", 7},
    {"released_prisoner", "刑满释放人员", 30},
    {"drug_rehab", "社区戒毒康复人员", 14},
    {"key_youth", "重点青少年", 30},
    {"special", "特殊人群", 14},
    {NULL, NULL, 0},
};

static const struct {
    const char *alias, *tag;
} tag_aliases[] = {
    {"独居", "elderly_alone"},        {"孤寡老人", "elderly_alone"},
    {"空巢", "elderly_empty_nest"},   {"高龄", "elderly_80"},
    {"残疾", "disabled"},             {"残障人士", "disabled"},
    {"低保户", "low_income"},         {"低保对象", "low_income"},
    {"低收入", "low_income"},         {"特困", "extreme_poverty"},
    {"特困供养", "extreme_poverty"},  {"留守", "left_behind_child"},
    {"退役", "veteran"},              {"大病", "serious_illness"},
    {"精神障碍", "mental_disorder"},  {"社区矫正", "community_correction"},
    {"刑释人员", "released_prisoner"}, {"吸毒人员", "drug_rehab"},
    {"特殊人员", "special"},          {NULL, NULL},
};

const care_tag *care_tag_find(const char *s)
{
    if (!s || !*s)
        return NULL;
    for (int i = 0; care_tags[i].tag; i++)
        if (strcmp(s, care_tags[i].tag) == 0 || strcmp(s, care_tags[i].zh) == 0)
            return &care_tags[i];
    for (int i = 0; tag_aliases[i].alias; i++)
        if (strcmp(s, tag_aliases[i].alias) == 0)
            return care_tag_find(tag_aliases[i].tag);
    return NULL;
}

/* ---- scope -------------------------------------------------------------- */

void reg_code_range(const char *prefix, char lo[64], char hi[64])
{
    snprintf(lo, 64, "%s", prefix ? prefix : "");
    snprintf(hi, 64, "%s", lo);
    size_t n = strlen(hi);
    if (n == 0) {
        snprintf(hi, 64, "~");
        return;
    }
    /* codes are ASCII: the next string after every string with this prefix */
    if ((unsigned char)hi[n - 1] < 0x7e)
        hi[n - 1]++;
    else if (n < 63)
        hi[n] = '~', hi[n + 1] = '\0';
}

void reg_scope_from(const principal *p, reg_scope *s)
{
    memset(s, 0, sizeof *s);
    if (!p || p->scope_kind == SCOPE_ALL) {
        s->all = 1;
        return;
    }
    if (p->scope_kind != SCOPE_GRID || !p->scope_grid[0]) {
        s->none = 1; /* a department sees no personal data; a resident only their own */
        return;
    }
    reg_code_range(p->scope_grid, s->lo, s->hi);
}

int reg_scope_covers(const reg_scope *s, const char *code)
{
    if (s->all)
        return 1;
    if (s->none || !code)
        return 0;
    return strcmp(code, s->lo) >= 0 && strcmp(code, s->hi) < 0;
}

/* ---- cell helpers --------------------------------------------------------- */

char *reg_clean_cell(char *s)
{
    if (!s)
        return s;
    /* leading spaces: ASCII, tab, full-width (U+3000), no-break (U+00A0) */
    char *p = s;
    for (;;) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        else if ((unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 &&
                 (unsigned char)p[2] == 0x80)
            p += 3;
        else if ((unsigned char)p[0] == 0xC2 && (unsigned char)p[1] == 0xA0)
            p += 2;
        else
            break;
    }
    size_t n = strlen(p);
    for (;;) {
        if (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
            n--;
        else if (n >= 3 && (unsigned char)p[n - 3] == 0xE3 && (unsigned char)p[n - 2] == 0x80 &&
                 (unsigned char)p[n - 1] == 0x80)
            n -= 3;
        else if (n >= 2 && (unsigned char)p[n - 2] == 0xC2 && (unsigned char)p[n - 1] == 0xA0)
            n -= 2;
        else
            break;
    }
    /* Excel's ="0123" keeps leading zeros and long numbers as text */
    if (n >= 3 && p[0] == '=' && p[1] == '"' && p[n - 1] == '"') {
        p += 2;
        n -= 3;
    }
    /* a ' that protects =+-@ from being run as a formula (wbuf_csv adds it),
     * or that forces text in Excel before a number */
    if (n >= 2 && p[0] == '\'' &&
        (strchr("=+-@", p[1]) || (p[1] >= '0' && p[1] <= '9'))) {
        p++;
        n--;
    }
    memmove(s, p, n);
    s[n] = '\0';
    return s;
}

static int days_in_month(int y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return md[m - 1];
}

int reg_parse_date(const char *s, char out[11])
{
    int y = 0, m = 0, d = 0, n = 0;
    if (!s)
        return -1;
    size_t len = strlen(s);
    if (len == 8 && strspn(s, "0123456789") == 8) {
        y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        m = (s[4] - '0') * 10 + (s[5] - '0');
        d = (s[6] - '0') * 10 + (s[7] - '0');
    } else if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 ||
               sscanf(s, "%4d/%2d/%2d%n", &y, &m, &d, &n) == 3 ||
               sscanf(s, "%4d.%2d.%2d%n", &y, &m, &d, &n) == 3 ||
               sscanf(s, "%4d年%2d月%2d日%n", &y, &m, &d, &n) == 3) {
        /* a time after the date ("1990/1/2 0:00:00", Excel) is ignored */
        if (s[n] && s[n] != ' ' && s[n] != 'T')
            return -1;
    } else {
        return -1;
    }
    if (y < 1880 || y > 2100 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    char tmp[40]; /* y, m, d are in range: exactly 10 characters */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y, m, d);
    memcpy(out, tmp, 11);
    return 0;
}

static const char *nz(const char *s)
{
    return (s && *s) ? s : NULL;
}

/* Copies s (NULL: "") into out (cap bytes), cut at cap - 1 bytes as
 * snprintf "%s" would cut it; returns the length.
 * Used per row by bulk imports, where snprintf was a tenth of the time. */
static size_t copy_cut(char *out, size_t cap, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(out, s, n);
    out[n] = '\0';
    return n;
}

/* Appends s at out + *len (cap bytes in all), cut as snprintf would. */
static void append_cut(char *out, size_t cap, size_t *len, const char *s)
{
    *len += copy_cut(out + *len, cap - *len, s);
}

/* Copies s with a trailing suffix removed ("3栋" → "3"). */
static void strip_suffix(const char *s, char *out, size_t cap, const char *const *suffixes)
{
    size_t n = copy_cut(out, cap, s);
    for (int i = 0; suffixes[i]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(out + n - k, suffixes[i]) == 0) {
            out[n - k] = '\0';
            return;
        }
    }
}

int reg_address_norm(const char *street, const char *compound, const char *building,
                     const char *unit, const char *room, reg_addr *out)
{
    static const char *const bsuf[] = {"号楼", "栋", "幢", "座", NULL};
    static const char *const usuf[] = {"单元", NULL};
    static const char *const rsuf[] = {"室", "号", NULL};
    copy_cut(out->street, sizeof out->street, street);
    copy_cut(out->compound, sizeof out->compound, compound);
    strip_suffix(building, out->building, sizeof out->building, bsuf);
    strip_suffix(unit, out->unit, sizeof out->unit, usuf);
    strip_suffix(room, out->room, sizeof out->room, rsuf);
    if (!out->street[0] && !out->compound[0] && !out->building[0] && !out->room[0]) {
        out->addr_key[0] = out->address[0] = '\0';
        return -1;
    }
    size_t k = 0;
    const char *key[] = {out->street, "|",       out->compound, "|",      out->building,
                         "|",         out->unit, "|",           out->room};
    for (size_t i = 0; i < sizeof key / sizeof key[0]; i++)
        append_cut(out->addr_key, sizeof out->addr_key, &k, key[i]);
    int numeric_b = out->building[0] && strspn(out->building, "0123456789") == strlen(out->building);
    int numeric_u = out->unit[0] && strspn(out->unit, "0123456789") == strlen(out->unit);
    int numeric_r = out->room[0] && strspn(out->room, "0123456789") == strlen(out->room);
    const char *disp[] = {out->street,   out->compound,
                          out->building, out->building[0] && numeric_b ? "栋" : "",
                          out->unit,     out->unit[0] && numeric_u ? "单元" : "",
                          out->room,     out->room[0] && numeric_r ? "室" : ""};
    k = 0;
    out->address[0] = '\0';
    for (size_t i = 0; i < sizeof disp / sizeof disp[0]; i++)
        append_cut(out->address, sizeof out->address, &k, disp[i]);
    return 0;
}

/* ---- people: prepare ------------------------------------------------------ */

static int parse_gender(const char *s, char out[2])
{
    out[0] = out[1] = '\0';
    if (!s || !*s)
        return 0;
    if (!strcmp(s, "男") || !strcasecmp(s, "M") || !strcasecmp(s, "male") || !strcmp(s, "1") ||
        !strcmp(s, "男性"))
        out[0] = 'M';
    else if (!strcmp(s, "女") || !strcasecmp(s, "F") || !strcasecmp(s, "female") ||
             !strcmp(s, "2") || !strcmp(s, "女性"))
        out[0] = 'F';
    else
        return -1;
    return 0;
}

static const char *parse_residence(const char *s)
{
    if (!s || !*s)
        return "registered";
    static const char *const reg[] = {"registered", "户籍", "户籍人口", "常住", "常住人口",
                                      "本地", "户籍人员", NULL};
    static const char *const flo[] = {"floating", "流动", "流动人口", "暂住", "寄住",
                                      "外来", "流动人员", "外来人口", NULL};
    static const char *const ovs[] = {"overseas", "境外", "境外人员", NULL};
    for (int i = 0; reg[i]; i++)
        if (!strcmp(s, reg[i]))
            return "registered";
    for (int i = 0; flo[i]; i++)
        if (!strcmp(s, flo[i]))
            return "floating";
    for (int i = 0; ovs[i]; i++)
        if (!strcmp(s, ovs[i]))
            return "overseas";
    return NULL;
}

static const char *parse_status(const char *s)
{
    if (!s || !*s || !strcmp(s, "active") || !strcmp(s, "正常") || !strcmp(s, "在册") ||
        !strcmp(s, "在住"))
        return "active";
    if (!strcmp(s, "moved_out") || !strcmp(s, "迁出") || !strcmp(s, "已迁出") ||
        !strcmp(s, "离开"))
        return "moved_out";
    if (!strcmp(s, "deceased") || !strcmp(s, "死亡") || !strcmp(s, "已故") ||
        !strcmp(s, "去世"))
        return "deceased";
    return NULL;
}

/* Splits a list of tags on , ， 、 ; ； / | and spaces into sorted codes
 * (in care_tags order). Returns 0, or -1 with the unknown word in bad. */
static int parse_tags(const char *s, char *out, size_t cap, char *bad, size_t badcap)
{
    int have[64] = {0};
    out[0] = '\0';
    if (!s)
        return 0;
    char word[128];
    const char *p = s;
    while (*p) {
        size_t n = 0;
        while (*p) {
            const char *seps[] = {",", "，", "、", ";", "；", "/", "|", " ", "　", NULL};
            size_t sl = 0;
            for (int i = 0; seps[i]; i++)
                if (!strncmp(p, seps[i], strlen(seps[i]))) {
                    sl = strlen(seps[i]);
                    break;
                }
            if (sl) {
                p += sl;
                break;
            }
            if (n + 1 < sizeof word)
                word[n++] = *p;
            p++;
        }
        word[n] = '\0';
        if (!n)
            continue;
        const care_tag *t = care_tag_find(word);
        if (!t) {
            snprintf(bad, badcap, "%s", word);
            return -1;
        }
        have[t - care_tags] = 1;
    }
    size_t len = 0;
    for (int i = 0; care_tags[i].tag; i++)
        if (have[i]) {
            int w = snprintf(out + len, cap - len, "%s%s", len ? "," : "", care_tags[i].tag);
            if (w < 0 || (size_t)w >= cap - len)
                break;
            len += (size_t)w;
        }
    return 0;
}

/* Looks like a number Excel has rewritten (1.23457E+17). */
static int excel_number(const char *s)
{
    return strchr(s, 'E') && strchr(s, '+') && strchr(s, '.');
}

#define FIELD_ERR(...) werr_set(e, W_EINVALID, "invalid_field", __VA_ARGS__)

static int opt_text(const char *v, const char *label, size_t max, const char **out, werr *e)
{
    *out = nz(v);
    if (*out && !valid_text(*out, 1, max))
        return FIELD_ERR("%s: at most %zu characters, no control characters", label, max);
    return WOK;
}

int reg_person_prepare(const person_input *in, reg_person *p, werr *e)
{
    memset(p, 0, sizeof *p);
    if (!nz(in->name))
        return FIELD_ERR("姓名 name: required");
    if (!valid_text(in->name, 1, 64))
        return FIELD_ERR("姓名 name: 1 to 64 characters");
    p->name = in->name;
    char idbuf[64] = "", id[19] = "";
    if (nz(in->id_number)) {
        size_t n = 0;
        for (const char *s = in->id_number; *s && n + 1 < sizeof idbuf; s++)
            if (*s != ' ' && *s != '\t' && *s != '-')
                idbuf[n++] = *s;
        idbuf[n] = '\0';
        if (excel_number(idbuf))
            return FIELD_ERR("身份证号 id_number: Excel turned it into a number (%s); format the "
                             "column as text and type it again", idbuf);
        if (!vault_id_valid(idbuf, id))
            return FIELD_ERR("身份证号 id_number: not a valid 18-character ID number (length, "
                             "date or check digit)");
    }
    if (parse_gender(nz(in->gender), p->gender) != 0)
        return FIELD_ERR("性别 gender: 男 or 女 (M or F)");
    if (nz(in->birth_date) && reg_parse_date(in->birth_date, p->birth_date) != 0)
        return FIELD_ERR("出生日期 birth_date: not a date (1990-01-02)");
    if (id[0]) {
        char from_id[11];
        snprintf(from_id, sizeof from_id, "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
        char g = ((id[16] - '0') % 2) ? 'M' : 'F';
        if (p->birth_date[0] && strcmp(p->birth_date, from_id) != 0)
            return FIELD_ERR("出生日期 birth_date: %s does not match the ID number", p->birth_date);
        if (p->gender[0] && p->gender[0] != g)
            return FIELD_ERR("性别 gender: does not match the ID number");
        snprintf(p->birth_date, sizeof p->birth_date, "%s", from_id);
        p->gender[0] = g;
        if (vault_seal(VAULT_ID, id, 18, p->id_enc) < 0 ||
            vault_hash(VAULT_ID, id, 18, p->id_hash) != 0)
            return werr_set(e, W_EINTERNAL, "no_key", "the vault key is not loaded");
        p->id_len = 18 + VAULT_SEAL_OVERHEAD;
        vault_mask_id(id, p->id_mask);
    }
    if (nz(in->phone)) {
        char ph[24];
        if (excel_number(in->phone))
            return FIELD_ERR("联系电话 phone: Excel turned it into a number (%s)", in->phone);
        if (!vault_phone_norm(in->phone, ph, 21))
            return FIELD_ERR("联系电话 phone: not a phone number");
        size_t n = strlen(ph);
        if (vault_seal(VAULT_PHONE, ph, n, p->phone_enc) < 0 ||
            vault_hash(VAULT_PHONE, ph, n, p->phone_hash) != 0)
            return werr_set(e, W_EINTERNAL, "no_key", "the vault key is not loaded");
        p->phone_len = (int)n + VAULT_SEAL_OVERHEAD;
        vault_mask_phone(ph, p->phone_mask);
    }
    /* 人员类型 sometimes carries a care tag instead of 户籍/流动 */
    const char *res = parse_residence(nz(in->residence));
    const char *extra_tag = NULL;
    if (!res) {
        if (care_tag_find(in->residence)) {
            res = "registered";
            extra_tag = in->residence;
        } else {
            return FIELD_ERR("人员类型 residence: 户籍 (registered), 流动 (floating) or 境外 "
                             "(overseas), not '%.40s'", in->residence);
        }
    }
    p->residence = res;
    char tagsrc[400], bad[128];
    snprintf(tagsrc, sizeof tagsrc, "%s%s%s", in->tags ? in->tags : "", extra_tag ? "," : "",
             extra_tag ? extra_tag : "");
    if (parse_tags(tagsrc, p->tags, sizeof p->tags, bad, sizeof bad) != 0)
        return FIELD_ERR("关爱标签 tags: unknown care tag '%.40s' (known: 独居老人, 残疾人, 低保, "
                         "特殊人群 …)", bad);
    if (!(p->status = parse_status(nz(in->status))))
        return FIELD_ERR("状态 status: 正常, 迁出 or 死亡");
    int rc;
    if ((rc = opt_text(in->relation, "与户主关系 relation", 20, &p->relation, e)) ||
        (rc = opt_text(in->ethnicity, "民族 ethnicity", 20, &p->ethnicity, e)) ||
        (rc = opt_text(in->political, "政治面貌 political", 20, &p->political, e)) ||
        (rc = opt_text(in->hukou_address, "户籍地址 hukou_address", 200, &p->hukou_address, e)) ||
        (rc = opt_text(in->workplace, "服务处所 workplace", 100, &p->workplace, e)) ||
        (rc = opt_text(in->note, "备注 note", 500, &p->note, e)))
        return rc;
    p->household_id = in->household_id;
    p->grid = nz(in->grid);
    const char *parts[] = {in->street, in->compound, in->building, in->unit, in->room};
    const char *labels[] = {"详址 street", "小区 compound", "楼栋 building", "单元 unit",
                            "房号 room"};
    const size_t max[] = {120, 120, 30, 30, 30};
    for (int i = 0; i < 5; i++)
        if (nz(parts[i]) && !valid_text(parts[i], 1, max[i]))
            return FIELD_ERR("%s: at most %zu characters", labels[i], max[i]);
    reg_addr addr;
    if (reg_address_norm(in->street, in->compound, in->building, in->unit, in->room, &addr) != 0 &&
        !p->household_id)
        return FIELD_ERR("address: give 小区/楼栋/单元/房号 or 详址 (or a household)");
    p->street = nz(in->street);
    p->compound = nz(in->compound);
    p->building = nz(in->building);
    p->unit = nz(in->unit);
    p->room = nz(in->room);
    return WOK;
}

/* ---- grid references ------------------------------------------------------ */

#define GC_SLOTS 4096

struct gc_entry {
    char *ref;
    int64_t id;
    char code[64];
};

struct reg_grid_cache {
    struct gc_entry e[GC_SLOTS];
};

reg_grid_cache *reg_grid_cache_new(void)
{
    return calloc(1, sizeof(reg_grid_cache));
}

void reg_grid_cache_free(reg_grid_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < GC_SLOTS; i++)
        free(c->e[i].ref);
    free(c);
}

static unsigned str_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

int reg_grid_resolve(db *d, reg_grid_cache *c, const reg_scope *sc, const char *ref, int64_t *id,
                     const char **code, werr *e)
{
    struct gc_entry *slot = NULL;
    if (c) {
        unsigned h = str_hash(ref);
        for (int i = 0; i < 16; i++) {
            struct gc_entry *x = &c->e[(h + (unsigned)i) % GC_SLOTS];
            if (!x->ref) {
                slot = x;
                break;
            }
            if (strcmp(x->ref, ref) == 0) {
                *id = x->id;
                *code = x->code;
                goto scope;
            }
        }
    }
    char found_code[64] = "";
    int64_t found = 0;
    db_stmt *s = db_query(d, "SELECT id, code, status FROM grids WHERE code = ?", "t", ref);
    if (s && db_step(s) == DB_ROW) {
        found = db_col_int64(s, 0);
        snprintf(found_code, sizeof found_code, "%s", db_col_text(s, 1));
        if (strcmp(db_col_text(s, 2), "active") != 0) {
            db_done(s);
            return FIELD_ERR("所属网格 grid: %s is retired; use the grid that replaced it", ref);
        }
    }
    db_done(s);
    if (!found) {
        int n = 0;
        s = db_query(d, "SELECT id, code FROM grids WHERE name = ? AND status = 'active' LIMIT 2",
                     "t", ref);
        while (s && db_step(s) == DB_ROW) {
            found = db_col_int64(s, 0);
            snprintf(found_code, sizeof found_code, "%s", db_col_text(s, 1));
            n++;
        }
        db_done(s);
        if (n > 1)
            return FIELD_ERR("所属网格 grid: several grids are named '%.60s'; use the grid code",
                             ref);
    }
    if (!found)
        return FIELD_ERR("所属网格 grid: no grid '%.60s'", ref);
    if (slot) {
        slot->ref = strdup(ref);
        slot->id = found;
        snprintf(slot->code, sizeof slot->code, "%s", found_code);
        *id = found;
        *code = slot->ref ? slot->code : NULL;
        if (!slot->ref)
            return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    } else {
        /* not cached: the caller only needs the code for the scope check */
        *id = found;
        *code = NULL;
        if (!reg_scope_covers(sc, found_code))
            return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                            "所属网格 grid: %.60s is outside your grids", ref);
        return WOK;
    }
scope:
    if (!reg_scope_covers(sc, *code))
        return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                        "所属网格 grid: %.60s is outside your grids", ref);
    return WOK;
}

/* The code of a grid id ("" for none). */
static void grid_code_of(db *d, int64_t gid, char out[64])
{
    out[0] = '\0';
    if (!gid)
        return;
    db_stmt *s = db_query(d, "SELECT code FROM grids WHERE id = ?", "I", gid);
    if (s && db_step(s) == DB_ROW)
        snprintf(out, 64, "%s", db_col_text(s, 0));
    db_done(s);
}

static int same(const char *a, const char *b)
{
    if (!a || !*a)
        return !b || !*b;
    return b && strcmp(a, b) == 0;
}

/* ---- households: put ------------------------------------------------------ */

/* reg_household_put; *grid_out (may be NULL) receives the household's grid
 * after the put (0 for none). */
static int household_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_person *p,
                         const char *kind, const char *head_name, const char *note, int *what,
                         int64_t *id, int64_t *grid_out, werr *e)
{
    int64_t gid = 0;
    const char *gcode = NULL;
    if (p->grid) {
        int rc = reg_grid_resolve(d, gc, sc, p->grid, &gid, &gcode, e);
        if (rc != WOK)
            return rc;
    }
    reg_addr ad;
    if (reg_address_norm(p->street, p->compound, p->building, p->unit, p->room, &ad) != 0)
        return FIELD_ERR("address: give 小区/楼栋/单元/房号 or 详址");
    db_stmt *s = db_query(d, "SELECT id, grid_id, kind, head_name, note FROM households "
                             "WHERE addr_key = ?", "t", ad.addr_key);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read households");
    int64_t hid = 0, hgrid = 0;
    int differs = 0;
    if (db_step(s) == DB_ROW) {
        hid = db_col_int64(s, 0);
        hgrid = db_col_int64(s, 1);
        differs = (kind && !same(kind, db_col_text(s, 2))) ||
                  (head_name && !same(head_name, db_col_text(s, 3))) ||
                  (note && !same(note, db_col_text(s, 4)));
    }
    db_done(s);
    char when[32];
    now_rfc3339(when);
    if (hid) {
        if (!sc->all) {
            char code[64];
            grid_code_of(d, hgrid, code);
            if (!reg_scope_covers(sc, code))
                return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                                "address: this household belongs to a grid outside yours");
        }
        if (gid && gid != hgrid) {
            if (db_exec(d, "UPDATE households SET grid_id = ?, updated_at = ? WHERE id = ?",
                        "ItI", gid, when, hid) != WOK ||
                db_exec(d, "UPDATE people SET grid_id = ? WHERE household_id = ?", "II", gid,
                        hid) != WOK)
                return werr_set(e, W_EINTERNAL, "database_error", "cannot move household");
            differs = 1;
        }
        if (differs && (kind || head_name || note) &&
            db_exec(d, "UPDATE households SET kind = coalesce(?, kind), head_name = "
                       "coalesce(?, head_name), note = coalesce(?, note), updated_at = ? "
                       "WHERE id = ?", "ttttI", kind, head_name, note, when, hid) != WOK)
            return werr_set(e, W_EINTERNAL, "database_error", "cannot update household");
        *id = hid;
        if (grid_out)
            *grid_out = gid ? gid : hgrid;
        if (what)
            *what = differs ? REG_UPDATED : REG_UNCHANGED;
        return WOK;
    }
    if (!gid && !sc->all)
        return FIELD_ERR("所属网格 grid: required (you may only add households to your grids)");
    int rc = db_exec(d,
                     "INSERT INTO households (grid_id, addr_key, street, compound, building, "
                     "unit, room, address, kind, head_name, note, created_at, updated_at) "
                     "VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "Ittttttttttt" "t", gid, ad.addr_key, nz(ad.street),
                     nz(ad.compound), nz(ad.building), nz(ad.unit), nz(ad.room), ad.address,
                     kind ? kind : "resident", head_name, note, when, when);
    if (rc != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot add household");
    *id = db_last_id(d);
    if (grid_out)
        *grid_out = gid;
    if (what)
        *what = REG_CREATED;
    return WOK;
}

int reg_household_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_person *p,
                      const char *kind, const char *head_name, const char *note, int *what,
                      int64_t *id, werr *e)
{
    return household_put(d, gc, sc, p, kind, head_name, note, what, id, NULL, e);
}

int reg_household_of(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_person *p,
                     int64_t *id, int64_t *grid, werr *e)
{
    return household_put(d, gc, sc, p, NULL, NULL, NULL, NULL, id, grid, e);
}

/* ---- people: put ---------------------------------------------------------- */

static int put_tags(db *d, int64_t pid, const char *tags, int fresh)
{
    if (!fresh && db_exec(d, "DELETE FROM person_tags WHERE person_id = ?", "I", pid) != WOK)
        return W_EINTERNAL;
    const char *p = tags;
    while (p && *p) {
        const char *c = strchr(p, ',');
        char t[64];
        size_t n = c ? (size_t)(c - p) : strlen(p);
        snprintf(t, sizeof t, "%.*s", (int)n, p);
        if (db_exec(d, "INSERT INTO person_tags (tag, person_id) VALUES (?, ?)", "tI", t, pid) !=
            WOK)
            return W_EINTERNAL;
        p = c ? c + 1 : NULL;
    }
    return WOK;
}

#define PERSON_CMP_COLS                                                                          \
    "id, grid_id, household_id, name, gender, birth_date, phone_hash, residence, relation, "      \
    "ethnicity, political, hukou_address, workplace, tags, status, note"

int reg_person_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_person *p, int *what,
                   int64_t *id, werr *e)
{
    int64_t hid = p->household_id, gid = 0;
    int rc;
    if (hid) {
        db_stmt *s = db_query(d, "SELECT h.grid_id, g.code FROM households h LEFT JOIN grids g "
                                 "ON g.id = h.grid_id WHERE h.id = ?", "I", hid);
        int found = s && db_step(s) == DB_ROW;
        char code[64] = "";
        if (found) {
            gid = db_col_int64(s, 0);
            snprintf(code, sizeof code, "%s", db_col_text(s, 1) ? db_col_text(s, 1) : "");
        }
        db_done(s);
        if (!found || !reg_scope_covers(sc, code[0] ? code : NULL))
            return werr_set(e, W_ENOTFOUND, "not_found", "household: no household %lld",
                            (long long)hid);
    } else {
        rc = reg_household_of(d, gc, sc, p, &hid, &gid, e);
        if (rc != WOK)
            return rc;
    }
    return reg_person_put_in(d, sc, p, hid, gid, 0, what, id, e);
}

int reg_person_put_in(db *d, const reg_scope *sc, const reg_person *p, int64_t hid, int64_t gid,
                      int insert_first, int *what, int64_t *id, werr *e)
{
    int rc;
    char when[32];
    now_rfc3339(when);
    const void *pe = p->phone_len ? p->phone_enc : NULL;
    const void *phh = p->phone_len ? p->phone_hash : NULL;
    const char *pm = p->phone_len ? p->phone_mask : NULL;
    if (insert_first) {
        /* most rows of a bulk import are new: one statement */
        *what = 0;
        if (!p->id_len)
            return WOK;
        rc = db_exec(d,
                     "INSERT INTO people (household_id, grid_id, name, gender, birth_date, "
                     "id_enc, id_hash, id_mask, phone_enc, phone_hash, phone_mask, residence, "
                     "relation, ethnicity, political, hukou_address, workplace, tags, status, "
                     "note, created_at, updated_at) VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, "
                     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO NOTHING",
                     "IIttt"
                     "bbt"
                     "bbt"
                     "ttttttttttt",
                     hid, gid, p->name, nz(p->gender), nz(p->birth_date), p->id_enc, p->id_len,
                     p->id_hash, VAULT_HASH_BYTES, p->id_mask, pe, p->phone_len, phh,
                     VAULT_HASH_BYTES, pm, p->residence, p->relation, p->ethnicity, p->political,
                     p->hukou_address, p->workplace, p->tags, p->status, p->note, when, when);
        if (rc != WOK)
            return werr_set(e, W_EINTERNAL, "database_error", "cannot save person");
        if (db_changes(d) == 1) {
            int64_t pid = db_last_id(d);
            if (put_tags(d, pid, p->tags, 1) != WOK)
                return werr_set(e, W_EINTERNAL, "database_error", "cannot save person");
            *what = REG_CREATED;
            *id = pid;
        }
        return WOK;
    }
    db_stmt *s;
    if (p->id_len)
        s = db_query(d, "SELECT " PERSON_CMP_COLS " FROM people WHERE id_hash = ?", "b",
                     p->id_hash, VAULT_HASH_BYTES);
    else
        s = db_query(d, "SELECT " PERSON_CMP_COLS " FROM people WHERE household_id = ? AND "
                        "name = ? AND id_hash IS NULL LIMIT 1", "It", hid, p->name);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read people");
    int64_t pid = 0, old_grid = 0;
    int changed = 0;
    if (db_step(s) == DB_ROW) {
        pid = db_col_int64(s, 0);
        old_grid = db_col_int64(s, 1);
        int plen = 0;
        const void *ph = db_col_blob(s, 6, &plen);
        int phone_same = p->phone_len ? (plen == VAULT_HASH_BYTES &&
                                         memcmp(ph, p->phone_hash, VAULT_HASH_BYTES) == 0)
                                      : plen == 0;
        changed = db_col_int64(s, 1) != gid || db_col_int64(s, 2) != hid ||
                  !same(p->name, db_col_text(s, 3)) || !same(p->gender, db_col_text(s, 4)) ||
                  !same(p->birth_date, db_col_text(s, 5)) || !phone_same ||
                  !same(p->residence, db_col_text(s, 7)) ||
                  !same(p->relation, db_col_text(s, 8)) ||
                  !same(p->ethnicity, db_col_text(s, 9)) ||
                  !same(p->political, db_col_text(s, 10)) ||
                  !same(p->hukou_address, db_col_text(s, 11)) ||
                  !same(p->workplace, db_col_text(s, 12)) || !same(p->tags, db_col_text(s, 13)) ||
                  !same(p->status, db_col_text(s, 14)) || !same(p->note, db_col_text(s, 15));
    }
    db_done(s);
    if (pid && old_grid != gid && !sc->all) {
        char code[64];
        grid_code_of(d, old_grid, code);
        if (!reg_scope_covers(sc, code))
            return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                            "身份证号 id_number: this person is registered in a grid outside "
                            "yours");
    }
    if (pid && !changed) {
        *what = REG_UNCHANGED;
        *id = pid;
        return WOK;
    }
    if (pid) {
        rc = db_exec(d,
                     "UPDATE people SET household_id = ?, grid_id = NULLIF(?, 0), name = ?, gender = ?, "
                     "birth_date = ?, phone_enc = ?, phone_hash = ?, phone_mask = ?, "
                     "residence = ?, relation = ?, ethnicity = ?, political = ?, "
                     "hukou_address = ?, workplace = ?, tags = ?, status = ?, note = ?, "
                     "updated_at = ? WHERE id = ?",
                     "IIttt" "bbt" "tttttttttt" "I", hid, gid, p->name, nz(p->gender),
                     nz(p->birth_date), pe, p->phone_len, phh, VAULT_HASH_BYTES, pm, p->residence,
                     p->relation, p->ethnicity, p->political, p->hukou_address, p->workplace,
                     p->tags, p->status, p->note, when, pid);
        *what = REG_UPDATED;
    } else {
        rc = db_exec(d,
                     "INSERT INTO people (household_id, grid_id, name, gender, birth_date, "
                     "id_enc, id_hash, id_mask, phone_enc, phone_hash, phone_mask, residence, "
                     "relation, ethnicity, political, hukou_address, workplace, tags, status, "
                     "note, created_at, updated_at) VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "IIttt" "bbt" "bbt" "ttttttttttt", hid, gid, p->name, nz(p->gender),
                     nz(p->birth_date), p->id_len ? p->id_enc : NULL, p->id_len,
                     p->id_len ? p->id_hash : NULL, VAULT_HASH_BYTES,
                     p->id_len ? p->id_mask : NULL, pe, p->phone_len, phh, VAULT_HASH_BYTES, pm,
                     p->residence, p->relation, p->ethnicity, p->political, p->hukou_address,
                     p->workplace, p->tags, p->status, p->note, when, when);
        if (rc == WOK)
            pid = db_last_id(d);
        *what = REG_CREATED;
    }
    if (rc == W_ECONFLICT)
        return werr_set(e, W_ECONFLICT, "duplicate", "身份证号 id_number: already registered");
    if (rc != WOK || put_tags(d, pid, p->tags, *what == REG_CREATED) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot save person");
    *id = pid;
    return WOK;
}

/* ---- people: forms -------------------------------------------------------- */

struct person_save_ctx {
    const audit_actor *a;
    const reg_scope *sc;
    const reg_person *p;
    int64_t id;
    int what;
    werr *e;
};

static int person_save_tx(db *d, void *arg)
{
    struct person_save_ctx *c = arg;
    int rc = reg_person_put(d, NULL, c->sc, c->p, &c->what, &c->id, c->e);
    if (rc != WOK || c->what == REG_UNCHANGED)
        return rc;
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    /* never the ID number or phone in the audit trail: their masks only */
    json_t *detail = json_pack("{s:s, s:s?, s:s?, s:s}", "name", c->p->name, "id_number",
                               c->p->id_len ? c->p->id_mask : NULL, "phone",
                               c->p->phone_len ? c->p->phone_mask : NULL, "tags", c->p->tags);
    rc = audit_record(d, c->a, c->what == REG_CREATED ? "person.create" : "person.update",
                      "person", idbuf, detail);
    json_decref(detail);
    if (rc == WOK)
        reg_recount_grids(d);
    return rc;
}

int reg_person_save(store *st, const audit_actor *a, const principal *who, const person_input *in,
                    int64_t *id, int *what, werr *e)
{
    int rc = vault_ensure(st, e);
    if (rc != WOK)
        return rc;
    reg_person *p = malloc(sizeof *p);
    if (!p)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    rc = reg_person_prepare(in, p, e);
    reg_scope sc;
    reg_scope_from(who, &sc);
    if (rc == WOK && sc.none)
        rc = werr_set(e, W_EFORBIDDEN, "out_of_scope", "your account has no grids");
    struct person_save_ctx c = {a, &sc, p, 0, 0, e};
    if (rc == WOK)
        rc = store_write(st, person_save_tx, &c);
    free(p);
    if (rc == WOK) {
        *id = c.id;
        if (what)
            *what = c.what;
    }
    return rc;
}

/* ---- people: reading ------------------------------------------------------ */

#define PERSON_COLS                                                                              \
    "p.id, p.name, p.gender, p.birth_date, p.id_mask, p.phone_mask, p.residence, p.relation, "    \
    "p.ethnicity, p.political, p.hukou_address, p.workplace, p.tags, p.status, p.note, "          \
    "p.household_id, h.address, g.id, g.code, g.name, p.created_at, p.updated_at, p.id_enc, "     \
    "p.phone_enc"
#define PERSON_FROM                                                                              \
    " FROM people p LEFT JOIN households h ON h.id = p.household_id LEFT JOIN grids g ON "         \
    "g.id = p.grid_id "

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *tags_json(const char *tags)
{
    json_t *a = json_array();
    const char *p = tags;
    while (p && *p) {
        const char *c = strchr(p, ',');
        char t[64];
        snprintf(t, sizeof t, "%.*s", (int)(c ? (size_t)(c - p) : strlen(p)), p);
        json_array_append_new(a, json_string(t));
        p = c ? c + 1 : NULL;
    }
    return a;
}

static json_t *person_row(db_stmt *s, int unmask)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(db_col_int64(s, 0)));
    json_object_set_new(o, "name", jstr(db_col_text(s, 1)));
    json_object_set_new(o, "gender", jstr(db_col_text(s, 2)));
    json_object_set_new(o, "birth_date", jstr(db_col_text(s, 3)));
    char full[64];
    int len;
    const void *enc = db_col_blob(s, 22, &len);
    if (unmask && enc && vault_open(VAULT_ID, enc, (size_t)len, full, sizeof full) >= 0)
        json_object_set_new(o, "id_number", json_string(full));
    else
        json_object_set_new(o, "id_number", jstr(db_col_text(s, 4)));
    enc = db_col_blob(s, 23, &len);
    if (unmask && enc && vault_open(VAULT_PHONE, enc, (size_t)len, full, sizeof full) >= 0)
        json_object_set_new(o, "phone", json_string(full));
    else
        json_object_set_new(o, "phone", jstr(db_col_text(s, 5)));
    json_object_set_new(o, "masked", json_boolean(!unmask));
    json_object_set_new(o, "residence", jstr(db_col_text(s, 6)));
    json_object_set_new(o, "relation", jstr(db_col_text(s, 7)));
    json_object_set_new(o, "ethnicity", jstr(db_col_text(s, 8)));
    json_object_set_new(o, "political", jstr(db_col_text(s, 9)));
    json_object_set_new(o, "hukou_address", jstr(db_col_text(s, 10)));
    json_object_set_new(o, "workplace", jstr(db_col_text(s, 11)));
    json_object_set_new(o, "tags", tags_json(db_col_text(s, 12)));
    json_object_set_new(o, "status", jstr(db_col_text(s, 13)));
    json_object_set_new(o, "note", jstr(db_col_text(s, 14)));
    json_object_set_new(o, "household",
                        db_col_is_null(s, 15)
                            ? json_null()
                            : json_pack("{s:I, s:s?}", "id", (json_int_t)db_col_int64(s, 15),
                                        "address", db_col_text(s, 16)));
    json_object_set_new(o, "grid",
                        db_col_is_null(s, 17)
                            ? json_null()
                            : json_pack("{s:I, s:s, s:s}", "id", (json_int_t)db_col_int64(s, 17),
                                        "code", db_col_text(s, 18), "name", db_col_text(s, 19)));
    json_object_set_new(o, "created_at", jstr(db_col_text(s, 20)));
    json_object_set_new(o, "updated_at", jstr(db_col_text(s, 21)));
    return o;
}

struct unmask_ctx {
    const audit_actor *a;
    int64_t id;
};

static int unmask_tx(db *d, void *arg)
{
    struct unmask_ctx *c = arg;
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:[s,s]}", "fields", "id_number", "phone");
    int rc = audit_record(d, c->a, "person.unmask", "person", idbuf, detail);
    json_decref(detail);
    return rc;
}

int reg_person_get(store *st, const audit_actor *a, const principal *who, int64_t id, int unmask,
                   json_t **out, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    if (unmask && vault_ensure(st, e) != WOK)
        return e->rc;
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    db_stmt *s = db_query(d, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.id = ?", "I", id);
    json_t *o = NULL;
    if (s && db_step(s) == DB_ROW && !sc.none &&
        (sc.all || reg_scope_covers(&sc, db_col_text(s, 18))))
        o = person_row(s, unmask);
    db_done(s);
    store_release(st, d);
    if (!o)
        return werr_set(e, W_ENOTFOUND, "not_found", "no person %lld", (long long)id);
    if (unmask) {
        /* The full values leave only once the read is on record. */
        struct unmask_ctx c = {a, id};
        int rc = store_write(st, unmask_tx, &c);
        if (rc != WOK) {
            json_decref(o);
            return werr_set(e, W_EINTERNAL, "audit_failed", "cannot record the unmasked read");
        }
    }
    *out = o;
    return WOK;
}

/* Common filters of every search shape: scope, explicit grid, tag,
 * residence. Binds: i t t | t t t | t t | t t (see bind order below). */
#define PERSON_FILTER                                                                            \
    " AND (? = 1 OR (g.code >= ? AND g.code < ?))"                                               \
    " AND (? IS NULL OR (g.code >= ? AND g.code < ?))"                                           \
    " AND (? IS NULL OR EXISTS (SELECT 1 FROM person_tags t WHERE t.tag = ? AND "               \
    "t.person_id = p.id))"                                                                       \
    " AND (? IS NULL OR p.residence = ?)"
#define FILTER_TYPES "ittttttttt"
#define FILTER_ARGS                                                                              \
    sc.all, sc.lo, sc.hi, q->grid, glo, ghi, q->tag, q->tag, q->residence, q->residence

int reg_person_search(db *d, const principal *who, const person_query *qin, json_t **out, werr *e)
{
    person_query qq = *qin;
    person_query *q = &qq;
    reg_scope sc;
    reg_scope_from(who, &sc);
    int limit = q->limit > 0 && q->limit <= 500 ? q->limit : 50;
    json_t *items = json_array();
    if (sc.none) {
        *out = json_pack("{s:o, s:n}", "items", items, "next_cursor");
        return WOK;
    }
    char glo[64] = "", ghi[64] = "";
    if (q->grid)
        reg_code_range(q->grid, glo, ghi);
    if (q->tag && !care_tag_find(q->tag)) {
        json_decref(items);
        return FIELD_ERR("tag: unknown care tag '%.40s'", q->tag);
    }
    if (q->tag)
        q->tag = care_tag_find(q->tag)->tag;
    /* q: an ID number, a phone, or a name */
    if (q->q && *q->q) {
        char idn[19], ph[24];
        if (vault_id_valid(q->q, idn))
            q->id_number = q->q;
        else if (strspn(q->q, "0123456789+- ") == strlen(q->q) && vault_phone_norm(q->q, ph, 21))
            q->phone = q->q;
        else
            q->name = q->q;
    }
    unsigned char hash[VAULT_HASH_BYTES];
    db_stmt *s = NULL;
    int by_name = 0;
    char name_hi[200];
    if (q->id_number || q->phone) {
        char norm[24];
        int kind = q->id_number ? VAULT_ID : VAULT_PHONE;
        if (q->id_number ? !vault_id_valid(q->id_number, norm)
                         : !vault_phone_norm(q->phone, norm, 21)) {
            json_decref(items);
            return FIELD_ERR(q->id_number ? "id_number: not a valid ID number"
                                          : "phone: not a phone number");
        }
        if (vault_hash(kind, norm, strlen(norm), hash) != 0) {
            json_decref(items);
            return werr_set(e, W_EINTERNAL, "no_key", "the vault key is not loaded");
        }
        if (q->id_number)
            s = db_query(d, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.id_hash = ? AND p.id > ?"
                            PERSON_FILTER " ORDER BY p.id LIMIT ?", "bI" FILTER_TYPES "i", hash,
                         VAULT_HASH_BYTES, q->cursor, FILTER_ARGS, limit + 1);
        else
            s = db_query(d, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.phone_hash = ? AND "
                            "p.id > ?" PERSON_FILTER " ORDER BY p.id LIMIT ?",
                         "bI" FILTER_TYPES "i", hash, VAULT_HASH_BYTES, q->cursor, FILTER_ARGS,
                         limit + 1);
    } else if (q->name && *q->name) {
        /* name prefix, ordered by (name, id); the cursor is the last id */
        by_name = 1;
        snprintf(name_hi, sizeof name_hi, "%s\x7f", q->name);
        s = db_query(d,
                     "SELECT " PERSON_COLS PERSON_FROM
                     "WHERE p.name >= ? AND p.name < ? AND (? = 0 OR p.name > (SELECT name FROM "
                     "people WHERE id = ?) OR (p.name = (SELECT name FROM people WHERE id = ?) "
                     "AND p.id > ?))" PERSON_FILTER " ORDER BY p.name, p.id LIMIT ?",
                     "ttIIII" FILTER_TYPES "i", q->name, name_hi, q->cursor, q->cursor, q->cursor,
                     q->cursor, FILTER_ARGS, limit + 1);
    } else if (q->address && *q->address) {
        if (utf8_chars(q->address) < 3) {
            json_decref(items);
            return FIELD_ERR("address: at least 3 characters");
        }
        char phrase[400];
        size_t n = 0;
        phrase[n++] = '"';
        for (const char *c = q->address; *c && n + 3 < sizeof phrase; c++) {
            if (*c == '"')
                phrase[n++] = '"';
            phrase[n++] = *c;
        }
        phrase[n++] = '"';
        phrase[n] = '\0';
        s = db_query(d, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.household_id IN (SELECT rowid "
                        "FROM households_fts WHERE households_fts MATCH ?) AND p.id > ?"
                        PERSON_FILTER " ORDER BY p.id LIMIT ?", "tI" FILTER_TYPES "i", phrase,
                     q->cursor, FILTER_ARGS, limit + 1);
    } else if (q->household_id) {
        s = db_query(d, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.household_id = ? AND p.id > ?"
                        PERSON_FILTER " ORDER BY p.id LIMIT ?", "II" FILTER_TYPES "i",
                     q->household_id, q->cursor, FILTER_ARGS, limit + 1);
    } else {
        /* a subtree (the explicit grid, or the caller's scope), newest ids last */
        const char *lo = q->grid ? glo : sc.lo, *hi = q->grid ? ghi : sc.hi;
        if (!q->grid && sc.all)
            s = db_query(d, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.id > ?" PERSON_FILTER
                            " ORDER BY p.id LIMIT ?", "I" FILTER_TYPES "i", q->cursor, FILTER_ARGS,
                         limit + 1);
        else
            s = db_query(d, "SELECT " PERSON_COLS PERSON_FROM "WHERE p.grid_id IN (SELECT id FROM "
                            "grids WHERE code >= ? AND code < ?) AND p.id > ?" PERSON_FILTER
                            " ORDER BY p.id LIMIT ?", "ttI" FILTER_TYPES "i", lo, hi, q->cursor,
                         FILTER_ARGS, limit + 1);
    }
    (void)by_name;
    if (!s) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot search people");
    }
    int n = 0;
    int64_t last = 0, next = 0;
    while (db_step(s) == DB_ROW) {
        if (n == limit) {
            next = last;
            break;
        }
        json_t *o = person_row(s, 0);
        last = json_integer_value(json_object_get(o, "id"));
        json_array_append_new(items, o);
        n++;
    }
    db_done(s);
    *out = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                     next ? json_integer(next) : json_null());
    return WOK;
}

/* ---- households ----------------------------------------------------------- */

#define HH_COLS                                                                                  \
    "h.id, h.address, h.street, h.compound, h.building, h.unit, h.room, h.kind, h.head_name, "    \
    "h.note, h.last_visit_at, g.id, g.code, g.name, (SELECT count(*) FROM people x WHERE "        \
    "x.household_id = h.id AND x.status = 'active')"
#define HH_FROM " FROM households h LEFT JOIN grids g ON g.id = h.grid_id "
#define HH_SCOPE " AND (? = 1 OR (g.code >= ? AND g.code < ?))"

static json_t *household_row(db_stmt *s)
{
    json_t *o = json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s, s:s?, s:s?, s:s?, s:I}",
                          "id", (json_int_t)db_col_int64(s, 0), "address", db_col_text(s, 1),
                          "street", db_col_text(s, 2), "compound", db_col_text(s, 3), "building",
                          db_col_text(s, 4), "unit", db_col_text(s, 5), "room", db_col_text(s, 6),
                          "kind", db_col_text(s, 7), "head_name", db_col_text(s, 8), "note",
                          db_col_text(s, 9), "last_visit_at", db_col_text(s, 10), "members",
                          (json_int_t)db_col_int64(s, 14));
    json_object_set_new(o, "grid",
                        db_col_is_null(s, 11)
                            ? json_null()
                            : json_pack("{s:I, s:s, s:s}", "id", (json_int_t)db_col_int64(s, 11),
                                        "code", db_col_text(s, 12), "name", db_col_text(s, 13)));
    return o;
}

int reg_household_search(db *d, const principal *who, const household_query *q, json_t **out,
                         werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    int limit = q->limit > 0 && q->limit <= 500 ? q->limit : 50;
    json_t *items = json_array();
    if (sc.none) {
        *out = json_pack("{s:o, s:n}", "items", items, "next_cursor");
        return WOK;
    }
    char glo[64] = "", ghi[64] = "";
    if (q->grid)
        reg_code_range(q->grid, glo, ghi);
    db_stmt *s;
    if (q->address && *q->address) {
        if (utf8_chars(q->address) < 3) {
            json_decref(items);
            return FIELD_ERR("address: at least 3 characters");
        }
        char phrase[400];
        size_t n = 0;
        phrase[n++] = '"';
        for (const char *c = q->address; *c && n + 3 < sizeof phrase; c++) {
            if (*c == '"')
                phrase[n++] = '"';
            phrase[n++] = *c;
        }
        phrase[n++] = '"';
        phrase[n] = '\0';
        s = db_query(d, "SELECT " HH_COLS HH_FROM "WHERE h.id IN (SELECT rowid FROM "
                        "households_fts WHERE households_fts MATCH ?) AND h.id > ?" HH_SCOPE
                        " AND (? IS NULL OR (g.code >= ? AND g.code < ?)) ORDER BY h.id LIMIT ?",
                     "tIittttti", phrase, q->cursor, sc.all, sc.lo, sc.hi, q->grid, glo, ghi,
                     limit + 1);
    } else {
        s = db_query(d, "SELECT " HH_COLS HH_FROM "WHERE h.id > ?" HH_SCOPE
                        " AND (? IS NULL OR (g.code >= ? AND g.code < ?)) ORDER BY h.id LIMIT ?",
                     "Iittttti", q->cursor, sc.all, sc.lo, sc.hi, q->grid, glo, ghi,
                     limit + 1);
    }
    if (!s) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot search households");
    }
    int n = 0;
    int64_t last = 0, next = 0;
    while (db_step(s) == DB_ROW) {
        if (n == limit) {
            next = last;
            break;
        }
        json_t *o = household_row(s);
        last = db_col_int64(s, 0);
        json_array_append_new(items, o);
        n++;
    }
    db_done(s);
    *out = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                     next ? json_integer(next) : json_null());
    return WOK;
}

int reg_household_get(db *d, const principal *who, int64_t id, json_t **out, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    json_t *o = NULL;
    db_stmt *s = db_query(d, "SELECT " HH_COLS HH_FROM "WHERE h.id = ?" HH_SCOPE, "Iitt", id,
                          sc.all, sc.lo, sc.hi);
    if (s && !sc.none && db_step(s) == DB_ROW)
        o = household_row(s);
    db_done(s);
    if (!o)
        return werr_set(e, W_ENOTFOUND, "not_found", "no household %lld", (long long)id);
    person_query q = {0};
    q.household_id = id;
    q.limit = 500;
    json_t *members = NULL;
    if (reg_person_search(d, who, &q, &members, e) == WOK) {
        json_object_set(o, "people", json_object_get(members, "items"));
        json_decref(members);
    }
    json_t *visits = NULL;
    if (reg_visit_list(d, who, id, &visits, e) == WOK) {
        json_object_set(o, "visits", json_object_get(visits, "items"));
        json_decref(visits);
    }
    *out = o;
    return WOK;
}

struct hh_save_ctx {
    const audit_actor *a;
    const reg_scope *sc;
    const reg_person *p;
    const char *kind, *head, *note;
    int64_t id;
    int what;
    werr *e;
};

static int hh_save_tx(db *d, void *arg)
{
    struct hh_save_ctx *c = arg;
    int rc = reg_household_put(d, NULL, c->sc, c->p, c->kind, c->head, c->note, &c->what, &c->id,
                               c->e);
    if (rc != WOK || c->what == REG_UNCHANGED)
        return rc;
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    reg_addr ad;
    reg_address_norm(c->p->street, c->p->compound, c->p->building, c->p->unit, c->p->room, &ad);
    json_t *detail = json_pack("{s:s}", "address", ad.address);
    rc = audit_record(d, c->a, c->what == REG_CREATED ? "household.create" : "household.update",
                      "household", idbuf, detail);
    json_decref(detail);
    if (rc == WOK)
        reg_recount_grids(d);
    return rc;
}

static const char *const household_kinds[] = {"resident", "rental", "vacant", "collective", NULL};

int reg_household_save(store *st, const audit_actor *a, const principal *who,
                       const person_input *in, const char *kind, const char *head_name,
                       const char *note, int64_t *id, int *what, werr *e)
{
    reg_person *p = calloc(1, sizeof *p);
    if (!p)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    int rc = WOK;
    int kind_ok = !kind;
    for (int i = 0; kind && household_kinds[i]; i++)
        kind_ok |= !strcmp(kind, household_kinds[i]);
    if (!kind_ok)
        rc = FIELD_ERR("kind: resident, rental, vacant or collective");
    reg_addr ad;
    if (rc == WOK &&
        reg_address_norm(in->street, in->compound, in->building, in->unit, in->room, &ad) != 0)
        rc = FIELD_ERR("address: give 小区/楼栋/单元/房号 or 详址");
    p->grid = nz(in->grid);
    p->street = nz(in->street);
    p->compound = nz(in->compound);
    p->building = nz(in->building);
    p->unit = nz(in->unit);
    p->room = nz(in->room);
    reg_scope sc;
    reg_scope_from(who, &sc);
    if (rc == WOK && sc.none)
        rc = werr_set(e, W_EFORBIDDEN, "out_of_scope", "your account has no grids");
    struct hh_save_ctx c = {a, &sc, p, kind, nz(head_name), nz(note), 0, 0, e};
    if (rc == WOK)
        rc = store_write(st, hh_save_tx, &c);
    free(p);
    if (rc == WOK) {
        *id = c.id;
        if (what)
            *what = c.what;
    }
    return rc;
}

int reg_recount_grids(db *d)
{
    return db_exec(d, "UPDATE grids SET people = (SELECT count(*) FROM people p WHERE p.grid_id = "
                      "grids.id AND p.status = 'active'), households = (SELECT count(*) FROM "
                      "households h WHERE h.grid_id = grids.id)", "");
}

/* ---- visits --------------------------------------------------------------- */

struct visit_ctx {
    const audit_actor *a;
    const reg_scope *sc;
    const visit_input *in;
    const char *visitor_name, *at;
    int64_t visitor_id, id;
    werr *e;
};

static int visit_tx(db *d, void *arg)
{
    struct visit_ctx *c = arg;
    db_stmt *s = db_query(d, "SELECT g.code, h.last_visit_at FROM households h LEFT JOIN grids g "
                             "ON g.id = h.grid_id WHERE h.id = ?", "I", c->in->household_id);
    int found = 0;
    char last[32] = "";
    if (s && db_step(s) == DB_ROW) {
        found = c->sc->all || reg_scope_covers(c->sc, db_col_text(s, 0));
        snprintf(last, sizeof last, "%s", db_col_text(s, 1) ? db_col_text(s, 1) : "");
    }
    db_done(s);
    if (!found)
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no household %lld",
                        (long long)c->in->household_id);
    if (c->in->person_id) {
        s = db_query(d, "SELECT 1 FROM people WHERE id = ? AND household_id = ?", "II",
                     c->in->person_id, c->in->household_id);
        found = s && db_step(s) == DB_ROW;
        db_done(s);
        if (!found)
            return werr_set(c->e, W_EINVALID, "invalid_field",
                            "person_id: not a member of this household");
    }
    char when[32];
    now_rfc3339(when);
    if (db_exec(d, "INSERT INTO visits (household_id, person_id, visitor_id, visitor_name, "
                   "visited_at, findings, needs, created_at) VALUES (?, NULLIF(?, 0), "
                   "NULLIF(?, 0), ?, ?, ?, ?, ?)", "IIIttttt", c->in->household_id,
                c->in->person_id, c->visitor_id, c->visitor_name, c->at, c->in->findings,
                c->in->needs, when) != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot record visit");
    c->id = db_last_id(d);
    if (strcmp(c->at, last) > 0 &&
        db_exec(d, "UPDATE households SET last_visit_at = ? WHERE id = ?", "tI", c->at,
                c->in->household_id) != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot record visit");
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:I, s:s}", "household_id", (json_int_t)c->in->household_id,
                               "visited_at", c->at);
    int rc = audit_record(d, c->a, "visit.create", "visit", idbuf, detail);
    json_decref(detail);
    return rc;
}

int reg_visit_add(store *st, const audit_actor *a, const principal *who, const visit_input *in,
                  int64_t *id, werr *e)
{
    if (!in->findings || !valid_multiline(in->findings, 1, 2000))
        return FIELD_ERR("findings: 1 to 2000 characters");
    if (in->needs && !valid_multiline(in->needs, 0, 2000))
        return FIELD_ERR("needs: at most 2000 characters");
    char at[32];
    int64_t t = clock_now();
    if (in->visited_at && clock_parse(in->visited_at, &t) != 0)
        return FIELD_ERR("visited_at: not a date or time (RFC 3339)");
    if (t > clock_now() + 300)
        return FIELD_ERR("visited_at: in the future");
    clock_format(t, at);
    reg_scope sc;
    reg_scope_from(who, &sc);
    if (sc.none)
        return werr_set(e, W_EFORBIDDEN, "out_of_scope", "your account has no grids");
    struct visit_ctx c = {a, &sc, in, who ? who->name : "system", at,
                          who ? who->user_id : 0, 0, e};
    int rc = store_write(st, visit_tx, &c);
    if (rc == WOK)
        *id = c.id;
    return rc;
}

int reg_visit_list(db *d, const principal *who, int64_t household_id, json_t **out, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    json_t *items = json_array();
    db_stmt *s = db_query(d, "SELECT v.id, v.person_id, v.visitor_name, v.visited_at, v.findings, "
                             "v.needs FROM visits v JOIN households h ON h.id = v.household_id "
                             "LEFT JOIN grids g ON g.id = h.grid_id WHERE v.household_id = ?"
                             HH_SCOPE " ORDER BY v.visited_at DESC, v.id DESC LIMIT 100",
                          "Iitt", household_id, sc.all, sc.lo, sc.hi);
    if (!s) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list visits");
    }
    while (!sc.none && db_step(s) == DB_ROW)
        json_array_append_new(
            items, json_pack("{s:I, s:o, s:s, s:s, s:s, s:s?}", "id",
                             (json_int_t)db_col_int64(s, 0), "person_id",
                             db_col_is_null(s, 1) ? json_null() : json_integer(db_col_int64(s, 1)),
                             "visitor", db_col_text(s, 2), "visited_at", db_col_text(s, 3),
                             "findings", db_col_text(s, 4), "needs", db_col_text(s, 5)));
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

int reg_visits_due(db *d, const principal *who, const char *tag, int interval_days,
                   const char *grid, int64_t cursor, int limit, json_t **out, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    if (limit <= 0 || limit > 500)
        limit = 50;
    const care_tag *t = NULL;
    if (tag && !(t = care_tag_find(tag)))
        return FIELD_ERR("tag: unknown care tag '%.40s'", tag);
    int days = interval_days > 0 ? interval_days : (t ? t->visit_days : 30);
    char cutoff[32];
    clock_format(clock_now() - (int64_t)days * 86400, cutoff);
    char glo[64] = "", ghi[64] = "";
    if (grid)
        reg_code_range(grid, glo, ghi);
    json_t *items = json_array();
    if (sc.none) {
        *out = json_pack("{s:o, s:n, s:i}", "items", items, "next_cursor", "interval_days", days);
        return WOK;
    }
    db_stmt *s = db_query(
        d,
        "SELECT " HH_COLS ", (SELECT group_concat(x.name || ':' || x.tags, ';') FROM people x "
        "WHERE x.household_id = h.id AND x.tags <> '' AND x.status = 'active') " HH_FROM
        "WHERE h.id IN (SELECT p.household_id FROM person_tags t JOIN people p ON p.id = "
        "t.person_id WHERE (? IS NULL OR t.tag = ?) AND p.status = 'active') AND "
        "(h.last_visit_at IS NULL OR h.last_visit_at < ?) AND h.id > ?" HH_SCOPE
        " AND (? IS NULL OR (g.code >= ? AND g.code < ?)) ORDER BY h.id LIMIT ?",
        "tttIittttti", t ? t->tag : NULL, t ? t->tag : NULL, cutoff, cursor, sc.all, sc.lo,
        sc.hi, grid, glo, ghi, limit + 1);
    if (!s) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list visits due");
    }
    int n = 0;
    int64_t last = 0, next = 0;
    int64_t now = clock_now();
    while (db_step(s) == DB_ROW) {
        if (n == limit) {
            next = last;
            break;
        }
        json_t *o = household_row(s);
        json_object_set_new(o, "cared_for", jstr(db_col_text(s, 15)));
        int64_t lv;
        if (db_col_text(s, 10) && clock_parse(db_col_text(s, 10), &lv) == 0)
            json_object_set_new(o, "days_since_visit", json_integer((now - lv) / 86400));
        else
            json_object_set_new(o, "days_since_visit", json_null());
        last = db_col_int64(s, 0);
        json_array_append_new(items, o);
        n++;
    }
    db_done(s);
    *out = json_pack("{s:o, s:o, s:i, s:s?}", "items", items, "next_cursor",
                     next ? json_integer(next) : json_null(), "interval_days", days, "tag",
                     t ? t->tag : NULL);
    return WOK;
}

/* ---- export --------------------------------------------------------------- */

/* Column order is the export order; import accepts the zh header or any
 * alias (see import.c for the matching rules). */
const reg_col reg_people_cols[] = {
    {"name", "姓名", "名字|人员姓名|居民姓名", RC_TEXT, 1, NULL},
    {"gender", "性别", "", RC_TEXT, 0, NULL},
    {"birth_date", "出生日期", "出生年月|出生年月日|生日", RC_TEXT, 0, NULL},
    {"id_number", "公民身份号码", "身份证号|身份证号码|身份证|证件号码|身份证件号码|公民身份证号",
     RC_TEXT, 0, NULL},
    {"phone", "联系电话", "手机号|手机号码|电话|联系方式|手机|电话号码|联系号码", RC_TEXT, 0, NULL},
    {"residence", "人员类型", "户籍类型|人口类型|居住类型|户籍性质|人口属性", RC_TEXT, 0, NULL},
    {"relation", "与户主关系", "关系|家庭关系|与户主关系名称", RC_TEXT, 0, NULL},
    {"ethnicity", "民族", "", RC_TEXT, 0, NULL},
    {"political", "政治面貌", "", RC_TEXT, 0, NULL},
    {"hukou_address", "户籍地址", "户籍地|户籍所在地|户籍地详址|户籍门（楼）详址|户籍详址",
     RC_TEXT, 0, NULL},
    {"workplace", "服务处所", "工作单位|就业单位", RC_TEXT, 0, NULL},
    {"tags", "关爱标签", "标签|人员标签|特殊人群|关爱类型|重点人群|人员属性|关爱对象", RC_TEXT, 0,
     NULL},
    {"status", "状态", "人员状态", RC_TEXT, 0, NULL},
    {"grid", "所属网格", "网格|网格编码|网格名称|所在网格|网格编号", RC_GRID, 0, NULL},
    {"street", "详址", "现住址|居住地址|现居住地址|住址|地址|现住门（楼）详址|街路巷|现居住地",
     RC_TEXT, 0, NULL},
    {"compound", "小区", "小区名称|院落|小区（院落）|小区(院落)|村组|居民小组|院落名称", RC_TEXT, 0,
     NULL},
    {"building", "楼栋", "楼栋号|栋|幢|楼号|栋号", RC_TEXT, 0, NULL},
    {"unit", "单元", "单元号", RC_TEXT, 0, NULL},
    {"room", "房号", "房间号|室|门牌号|户号|房屋号", RC_TEXT, 0, NULL},
    {"note", "备注", "说明", RC_TEXT, 0, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};

const reg_col reg_household_cols[] = {
    {"grid", "所属网格", "网格|网格编码|网格名称|所在网格|网格编号", RC_GRID, 0, NULL},
    {"street", "详址", "现住址|居住地址|住址|地址|街路巷|门牌地址", RC_TEXT, 0, NULL},
    {"compound", "小区", "小区名称|院落|小区（院落）|小区(院落)|村组|居民小组", RC_TEXT, 0, NULL},
    {"building", "楼栋", "楼栋号|栋|幢|楼号|栋号", RC_TEXT, 0, NULL},
    {"unit", "单元", "单元号", RC_TEXT, 0, NULL},
    {"room", "房号", "房间号|室|门牌号|户号|房屋号", RC_TEXT, 0, NULL},
    {"kind", "户类型", "类型|住户类型|房屋性质", RC_TEXT, 0, NULL},
    {"head_name", "户主姓名", "户主|户主名称", RC_TEXT, 0, NULL},
    {"note", "备注", "说明", RC_TEXT, 0, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};

static const char *residence_zh(const char *r)
{
    if (r && !strcmp(r, "floating"))
        return "流动";
    if (r && !strcmp(r, "overseas"))
        return "境外";
    return "户籍";
}

static const char *status_zh(const char *s)
{
    if (s && !strcmp(s, "moved_out"))
        return "迁出";
    if (s && !strcmp(s, "deceased"))
        return "死亡";
    return "正常";
}

static void tags_zh(const char *tags, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    const char *p = tags;
    while (p && *p) {
        const char *c = strchr(p, ',');
        char t[64];
        snprintf(t, sizeof t, "%.*s", (int)(c ? (size_t)(c - p) : strlen(p)), p);
        const care_tag *ct = care_tag_find(t);
        int w = snprintf(out + len, cap - len, "%s%s", len ? "、" : "", ct ? ct->zh : t);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
        p = c ? c + 1 : NULL;
    }
}

static int emit_header(table_sink *out, const reg_col *cols)
{
    const char *h[64];
    int n = 0;
    for (; cols[n].key && n < 64; n++)
        h[n] = cols[n].zh;
    return out->row(out->ctx, h, n);
}

int reg_people_export(db *d, const principal *who, int unmask, table_sink *out, int64_t *rows,
                      werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    *rows = 0;
    if (emit_header(out, reg_people_cols) != 0)
        return werr_set(e, W_EINTERNAL, "write_failed", "cannot write export");
    if (sc.none)
        return WOK;
    db_stmt *s = db_query(d,
                          "SELECT p.name, p.gender, p.birth_date, p.id_mask, p.id_enc, "
                          "p.phone_mask, p.phone_enc, p.residence, p.relation, p.ethnicity, "
                          "p.political, p.hukou_address, p.workplace, p.tags, p.status, g.code, "
                          "h.street, h.compound, h.building, h.unit, h.room, p.note "
                          "FROM people p LEFT JOIN households h ON h.id = p.household_id "
                          "LEFT JOIN grids g ON g.id = p.grid_id WHERE (? = 1 OR (g.code >= ? "
                          "AND g.code < ?)) ORDER BY p.id", "itt", sc.all, sc.lo, sc.hi);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot export people");
    int rc = WOK;
    while (db_step(s) == DB_ROW) {
        char idf[64] = "", phf[64] = "", tz[400];
        const char *g = db_col_text(s, 1);
        int len;
        const void *enc = db_col_blob(s, 4, &len);
        const char *idv = db_col_text(s, 3);
        if (unmask && enc && vault_open(VAULT_ID, enc, (size_t)len, idf, sizeof idf) >= 0)
            idv = idf;
        enc = db_col_blob(s, 6, &len);
        const char *phv = db_col_text(s, 5);
        if (unmask && enc && vault_open(VAULT_PHONE, enc, (size_t)len, phf, sizeof phf) >= 0)
            phv = phf;
        tags_zh(db_col_text(s, 13), tz, sizeof tz);
        const char *cells[20] = {
            db_col_text(s, 0), g ? (g[0] == 'M' ? "男" : "女") : NULL, db_col_text(s, 2), idv,
            phv, residence_zh(db_col_text(s, 7)), db_col_text(s, 8), db_col_text(s, 9),
            db_col_text(s, 10), db_col_text(s, 11), db_col_text(s, 12), tz,
            status_zh(db_col_text(s, 14)), db_col_text(s, 15), db_col_text(s, 16),
            db_col_text(s, 17), db_col_text(s, 18), db_col_text(s, 19), db_col_text(s, 20),
            db_col_text(s, 21)};
        if (out->row(out->ctx, cells, 20) != 0) {
            rc = werr_set(e, W_EINTERNAL, "write_failed", "cannot write export");
            break;
        }
        (*rows)++;
    }
    db_done(s);
    return rc;
}

int reg_households_export(db *d, const principal *who, table_sink *out, int64_t *rows, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    *rows = 0;
    if (emit_header(out, reg_household_cols) != 0)
        return werr_set(e, W_EINTERNAL, "write_failed", "cannot write export");
    if (sc.none)
        return WOK;
    db_stmt *s = db_query(d, "SELECT g.code, h.street, h.compound, h.building, h.unit, h.room, "
                             "h.kind, h.head_name, h.note FROM households h LEFT JOIN grids g ON "
                             "g.id = h.grid_id WHERE (? = 1 OR (g.code >= ? AND g.code < ?)) "
                             "ORDER BY h.id", "itt", sc.all, sc.lo, sc.hi);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot export households");
    int rc = WOK;
    while (db_step(s) == DB_ROW) {
        const char *cells[9];
        for (int i = 0; i < 9; i++)
            cells[i] = db_col_text(s, i);
        if (out->row(out->ctx, cells, 9) != 0) {
            rc = werr_set(e, W_EINTERNAL, "write_failed", "cannot write export");
            break;
        }
        (*rows)++;
    }
    db_done(s);
    return rc;
}
