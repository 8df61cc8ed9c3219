/*
 * demo_registry.c — the registry part of `whistle demo`: households in
 * every micro-grid (the deepest active grids of demo_grids) with addresses
 * 小区/楼栋/单元/房号, the people living in them with realistic Chinese names,
 * valid ID numbers (region 511423, GB 11643 check digit) and phones, sealed
 * like any other; care tags; visits; buildings, facilities, organisations,
 * shops; party organisations with 党员联系户, representatives and
 * department contacts. Deterministic from the seed (the ciphertexts differ
 * from run to run — their nonces are random — but every value is the same).
 *
 * Scale: small ≈ 5,000 households / 12,000 people (make run), county ≈
 * 50,000 households, city ≈ 800,000 households / ~2 million people. Rows are
 * generated and sealed outside the write transaction, then inserted in
 * batches of 5,000 households with plain INSERTs (the database is empty).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "registry.h"
#include "vault.h"

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
    "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏",
    "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石",
};
static const char *const given_m[] = {
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "建华", "志强",
    "德明", "国庆", "斌", "晓东", "建国", "文", "浩", "宇", "俊杰", "子轩", "浩然", "家豪",
    "立新", "永福", "长林", "光明", "海涛", "正阳", "云峰", "志刚", "建军", "小龙",
};
static const char *const given_f[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "秀英", "霞", "桂英", "春梅", "海燕", "玉兰",
    "红梅", "琴", "丹", "雪", "凤", "秀兰", "淑珍", "丽华", "婷", "欣怡", "梓涵", "雨桐",
    "佳怡", "慧", "晓燕", "美玲", "翠华", "金凤", "小红", "素芬", "玉珍", "月娥", "诗涵",
};
static const char *const compounds[] = {
    "幸福里", "锦绣花园", "阳光小区", "金桂苑", "银杏家园", "滨河湾", "书香门第", "翠竹园",
    "紫荆苑", "和平小区", "鹤鸣苑", "蜀韵华庭", "锦城花园", "川西院落", "桂花巷小区",
    "文庙街小区", "子龙新村", "安居苑", "南河小区", "凤凰嘉园", "清泉雅居", "龙潭新城",
    "玉龙湾", "石桥院", "东门小区", "学府名居", "新华苑", "建设村", "枫林居", "柳湾林盘",
};
static const char *const findings[] = {
    "老人身体状况良好，生活能自理，家中燃气、电路已检查。",
    "独居老人血压偏高，已提醒按时服药，留下网格员联系卡。",
    "家中无异常，宣传了防诈骗知识和电动车不进楼。",
    "低保户反映冬季取暖困难，已登记并报社区。",
    "残疾人辅具需要更换，已联系残联。",
    "楼道照明损坏，已上报维修。",
};

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

static int below(struct rng *r, int n)
{
    return (int)(rnd(r) % (uint64_t)n);
}

#define N(a) ((int)(sizeof a / sizeof a[0]))

struct dgrid {
    int64_t id;
    char code[64];
    int64_t parent;
    double lat0, lng0, lat1, lng1;
    char compound[64]; /* one compound per parent grid, named uniquely */
    int building;      /* one building per micro-grid, numbered within it */
};

/* Names each parent's compound and numbers its micro-grids' buildings, so
 * that every generated address is distinct at any scale (addresses are a
 * unique key of the registry). g is sorted by code: siblings are adjacent. */
static void name_places(struct dgrid *g, int ng, const char *const *names, int nnames)
{
    int k = 0;
    for (int i = 0; i < ng; i++) {
        k = (i > 0 && g[i].parent == g[i - 1].parent) ? k + 1 : 0;
        g[i].building = k + 1;
        long long round = (long long)(g[i].parent / nnames);
        if (round > 0)
            snprintf(g[i].compound, sizeof g[i].compound, "%s%lld期", names[g[i].parent % nnames],
                     round + 1);
        else
            snprintf(g[i].compound, sizeof g[i].compound, "%s", names[g[i].parent % nnames]);
    }
}

struct dperson {
    char name[32];
    char birth[11], gender[2];
    char tags[64];
    const char *residence, *relation;
    unsigned char id_enc[18 + VAULT_SEAL_OVERHEAD], id_hash[VAULT_HASH_BYTES];
    unsigned char ph_enc[11 + VAULT_SEAL_OVERHEAD], ph_hash[VAULT_HASH_BYTES];
    char id_mask[19], ph_mask[12];
};

struct dhouse {
    int64_t grid_id;
    char compound[64], building[16], unit[16], room[16];
    int npeople, first;     /* people[first .. first+npeople) */
    int visit_days_ago;     /* -1: never */
};

struct batch {
    const audit_actor *a;
    struct dhouse *h;
    int nh;
    struct dperson *p;
    int64_t now;
    struct rng *r;
    werr *e;
};

/* ID numbers: unique (birth day, sequence) pairs; the sequence's last digit
 * is the gender digit (odd: male). */
static uint16_t *seq_per_day;

static void make_id(struct rng *r, int age_min, int age_max, int male, char id[19], char birth[11])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int64_t now_days = clock_now() / 86400;
    for (;;) {
        int64_t day = now_days - (int64_t)age_min * 365 - below(r, (age_max - age_min) * 365 + 1);
        int64_t idx = day + 25567; /* days since 1900-01-01 */
        if (idx < 0 || idx >= 80000)
            continue;
        int s = seq_per_day[idx];
        if ((s % 2 == 1) != male)
            s++;
        if (s > 999)
            continue;
        seq_per_day[idx] = (uint16_t)(s + 1);
        time_t t = (time_t)day * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        unsigned y = (unsigned)(tm.tm_year + 1900) % 10000u, m = (unsigned)(tm.tm_mon + 1) % 13u,
                 dd = (unsigned)tm.tm_mday % 32u;
        char tmp[16];
        snprintf(tmp, sizeof tmp, "%04u-%02u-%02u", y, m, dd);
        memcpy(birth, tmp, 11);
        char body[18];
        snprintf(body, sizeof body, "511423%.4s%.2s%.2s%03d", birth, birth + 5, birth + 8, s);
        int sum = 0;
        for (int i = 0; i < 17; i++)
            sum += (body[i] - '0') * w[i];
        snprintf(id, 19, "%s%c", body, "10X98765432"[sum % 11]);
        return;
    }
}

static void make_person(struct rng *r, struct dperson *p, int male, int age_min, int age_max,
                        const char *surname, uint64_t serial)
{
    char id[19], phone[12];
    make_id(r, age_min, age_max, male, id, p->birth);
    p->gender[0] = male ? 'M' : 'F';
    p->gender[1] = '\0';
    snprintf(p->name, sizeof p->name, "%s%s", surname ? surname : surnames[below(r, N(surnames))],
             male ? given_m[below(r, N(given_m))] : given_f[below(r, N(given_f))]);
    static const char *const pre[] = {"138", "139", "135", "150", "158", "186", "189", "177"};
    snprintf(phone, sizeof phone, "%s%08llu", pre[serial % 8],
             (unsigned long long)((serial * 2654435761u) % 100000000ull));
    vault_seal(VAULT_ID, id, 18, p->id_enc);
    vault_hash(VAULT_ID, id, 18, p->id_hash);
    vault_mask_id(id, p->id_mask);
    vault_seal(VAULT_PHONE, phone, 11, p->ph_enc);
    vault_hash(VAULT_PHONE, phone, 11, p->ph_hash);
    vault_mask_phone(phone, p->ph_mask);
    p->residence = below(r, 100) < 15 ? "floating" : "registered";
    p->tags[0] = '\0';
}

static int batch_tx(db *d, void *arg)
{
    struct batch *b = arg;
    char when[32];
    clock_format(b->now, when);
    for (int i = 0; i < b->nh; i++) {
        struct dhouse *h = &b->h[i];
        reg_addr ad;
        reg_address_norm(NULL, h->compound, h->building, h->unit, h->room, &ad);
        char visit[32] = "";
        if (h->visit_days_ago >= 0)
            clock_format(b->now - (int64_t)h->visit_days_ago * 86400 - 3600 * 3, visit);
        if (db_exec(d, "INSERT INTO households (grid_id, addr_key, compound, building, unit, room, "
                       "address, kind, head_name, last_visit_at, created_at, updated_at) VALUES "
                       "(NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    "Ittttttttttt", h->grid_id, ad.addr_key, ad.compound, ad.building, ad.unit,
                    ad.room, ad.address, h->npeople ? "resident" : "vacant",
                    h->npeople ? b->p[h->first].name : NULL, visit[0] ? visit : NULL, when,
                    when) != WOK)
            return werr_set(b->e, W_EINTERNAL, "database_error", "demo: cannot add household");
        int64_t hid = db_last_id(d);
        for (int k = 0; k < h->npeople; k++) {
            struct dperson *p = &b->p[h->first + k];
            if (db_exec(d,
                        "INSERT INTO people (household_id, grid_id, name, gender, birth_date, "
                        "id_enc, id_hash, id_mask, phone_enc, phone_hash, phone_mask, residence, "
                        "relation, tags, status, created_at, updated_at) VALUES (?, NULLIF(?, 0), "
                        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                        "IIttt" "bbt" "bbt" "ttttt", hid, h->grid_id, p->name, p->gender,
                        p->birth, p->id_enc, (int)sizeof p->id_enc, p->id_hash, VAULT_HASH_BYTES,
                        p->id_mask, p->ph_enc, (int)sizeof p->ph_enc, p->ph_hash,
                        VAULT_HASH_BYTES, p->ph_mask, p->residence, p->relation, p->tags, when,
                        when) != WOK)
                return werr_set(b->e, W_EINTERNAL, "database_error", "demo: cannot add person");
            int64_t pid = db_last_id(d);
            for (const char *t = p->tags; *t;) {
                const char *c = strchr(t, ',');
                char tag[32];
                snprintf(tag, sizeof tag, "%.*s", (int)(c ? c - t : (long)strlen(t)), t);
                db_exec(d, "INSERT INTO person_tags (tag, person_id) VALUES (?, ?)", "tI", tag,
                        pid);
                t = c ? c + 1 : t + strlen(t);
            }
            if (k == 0 && h->visit_days_ago >= 0 && p->tags[0])
                db_exec(d, "INSERT INTO visits (household_id, person_id, visitor_name, "
                           "visited_at, findings, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        "IIttt" "t", hid, pid, "网格员", visit,
                        findings[(hid + pid) % N(findings)], when);
        }
    }
    return WOK;
}

struct finish_ctx {
    const audit_actor *a;
    struct dgrid *g;
    int ng;
    int64_t households, people;
    struct rng *r;
    werr *e;
};

/* Places, party organisations, representatives, contacts, counts, audit. */
static int finish_tx(db *d, void *arg)
{
    struct finish_ctx *c = arg;
    char when[32];
    clock_format(clock_now(), when);
    static const char *const fac[] = {"manhole_cover", "street_light", "charging_shed",
                                      "fire_hydrant", "trash_station"};
    static const char *const fac_zh[] = {"井盖", "路灯", "充电棚", "消防栓", "垃圾收集点"};
    static const char *const fac_dept[] = {"SWJ", "CGJ", "ZJJ", "YJJ", "CGJ"};
    int64_t fno = 0, bno = 0;
    for (int i = 0; i < c->ng; i++) {
        struct dgrid *g = &c->g[i];
        double la = (g->lat0 + g->lat1) / 2, ln = (g->lng0 + g->lng1) / 2;
        char code[32], name[64];
        snprintf(code, sizeof code, "B%06lld", (long long)++bno);
        snprintf(name, sizeof name, "%d栋", g->building);
        if (db_exec(d, "INSERT INTO buildings (code, grid_id, compound, name, purpose, structure, "
                       "floors, units, households, built_year, lat, lng, created_at, updated_at) "
                       "VALUES (?, NULLIF(?, 0), ?, ?, 'residential', '砖混', ?, 3, ?, ?, ?, ?, "
                       "?, ?)", "tIttiii" "ddtt", code, g->id, g->compound,
                    name, 5 + below(c->r, 14), 18 + below(c->r, 30), 1985 + below(c->r, 38), la,
                    ln, when, when) != WOK)
            return werr_set(c->e, W_EINTERNAL, "database_error", "demo: cannot add building");
        for (int k = 0; k < 3; k++) {
            int f = below(c->r, N(fac));
            snprintf(code, sizeof code, "F%06lld", (long long)++fno);
            double fla = g->lat0 + (g->lat1 - g->lat0) * (0.1 + 0.8 * below(c->r, 1000) / 1000.0);
            double fln = g->lng0 + (g->lng1 - g->lng0) * (0.1 + 0.8 * below(c->r, 1000) / 1000.0);
            char addr[160];
            snprintf(addr, sizeof addr, "%s%s旁", g->compound, name);
            if (db_exec(d, "INSERT INTO facilities (code, grid_id, kind, name, address, "
                           "owner_dept, status, lat, lng, created_at, updated_at) VALUES (?, "
                           "NULLIF(?, 0), ?, ?, ?, (SELECT id FROM departments WHERE code = ?), "
                           "?, ?, ?, ?, ?)", "tIttttt" "ddtt", code, g->id, fac[f], fac_zh[f],
                        addr, fac_dept[f], below(c->r, 20) ? "ok" : "damaged", fla, fln, when,
                        when) != WOK)
                return werr_set(c->e, W_EINTERNAL, "database_error", "demo: cannot add facility");
        }
        if (i % 12 == 0) {
            static const char *const ok[] = {"school", "kindergarten", "hospital", "clinic",
                                             "office", "social"};
            static const char *const on[] = {"实验小学", "阳光幼儿园", "人民医院分院",
                                             "社区卫生服务站", "社区党群服务中心", "志愿者协会"};
            int k = (i / 12) % N(ok);
            char oname[96], ocode[32];
            snprintf(oname, sizeof oname, "%s%s", compounds[g->parent % N(compounds)], on[k]);
            snprintf(ocode, sizeof ocode, "O%06d", i / 12 + 1);
            db_exec(d, "INSERT INTO organisations (code, grid_id, name, kind, address, contact, "
                       "phone, lat, lng, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                       "?, ?, ?)", "tItttttddtt", ocode, g->id, oname, ok[k], oname, "王主任",
                    "028-8888" "0000", la, ln, when, when);
        }
        if (i % 4 == 1) {
            static const char *const shops[] = {"便利店", "五金店", "餐馆", "理发店", "药店",
                                                "快递驿站", "电动车维修"};
            char sname[96], scode[32];
            int k = (i / 4) % N(shops);
            snprintf(sname, sizeof sname, "%s%s", surnames[i % N(surnames)], shops[k]);
            snprintf(scode, sizeof scode, "E%06d", i / 4 + 1);
            db_exec(d, "INSERT INTO enterprises (code, grid_id, name, kind, industry, address, "
                       "legal_rep, employees, lat, lng, created_at, updated_at) VALUES (?, ?, ?, "
                       "'shop', ?, ?, ?, ?, ?, ?, ?, ?)", "tItttti" "ddtt", scode, g->id, sname,
                    shops[k], compounds[g->parent % N(compounds)], "店主", 1 + below(c->r, 8), la,
                    ln, when, when);
        }
    }
    /* party organisations: a 社区党委 per community, a 小区党支部 per grid, a
     * 楼栋党小组 per micro-grid, with a member looking after households */
    db_stmt *s = db_query(d, "SELECT id, name, depth FROM grids WHERE status = 'active' AND depth "
                             ">= 1 ORDER BY depth, code LIMIT 200000", "");
    int64_t maxdepth = 0;
    struct org {
        int64_t grid, org;
    } *orgs = calloc(200000, sizeof *orgs);
    int norgs = 0;
    if (!orgs) {
        db_done(s);
        return werr_set(c->e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    struct pending {
        int64_t id;
        char name[80];
        int depth;
    } *pend = calloc(200000, sizeof *pend);
    int np = 0;
    while (s && pend && db_step(s) == DB_ROW && np < 200000) {
        pend[np].id = db_col_int64(s, 0);
        snprintf(pend[np].name, sizeof pend[np].name, "%s", db_col_text(s, 1));
        pend[np].depth = db_col_int(s, 2);
        if (pend[np].depth > maxdepth)
            maxdepth = pend[np].depth;
        np++;
    }
    db_done(s);
    static const char *const level_of[] = {"working_committee", "committee", "branch", "group"};
    static const char *const suffix[] = {"党工委", "党委", "党支部", "党小组"};
    for (int i = 0; pend && i < np; i++) {
        int lv = (int)(pend[i].depth - 1 - (maxdepth > 4 ? maxdepth - 4 : 0));
        if (lv < 0 || lv > 3)
            continue;
        int64_t parent = 0;
        db_stmt *q = db_query(d, "SELECT parent_id FROM grids WHERE id = ?", "I", pend[i].id);
        int64_t pg = q && db_step(q) == DB_ROW ? db_col_int64(q, 0) : 0;
        db_done(q);
        for (int k = norgs - 1; k >= 0 && pg; k--)
            if (orgs[k].grid == pg) {
                parent = orgs[k].org;
                break;
            }
        char name[120], secretary[32];
        snprintf(name, sizeof name, "%s%s", pend[i].name, suffix[lv]);
        snprintf(secretary, sizeof secretary, "%s%s", surnames[i % N(surnames)],
                 given_f[(i * 3) % N(given_f)]);
        if (db_exec(d, "INSERT INTO party_orgs (parent_id, grid_id, level, name, secretary, "
                       "created_at) VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?)", "IItttt", parent,
                    pend[i].id, level_of[lv], name, secretary, when) != WOK)
            break;
        orgs[norgs].grid = pend[i].id;
        orgs[norgs].org = db_last_id(d);
        if (lv == 3) {
            char mname[32];
            snprintf(mname, sizeof mname, "%s%s", surnames[(i * 7) % N(surnames)],
                     given_m[i % N(given_m)]);
            db_exec(d, "INSERT INTO party_members (org_id, name, role, created_at) VALUES (?, ?, "
                       "'central_household', ?)", "Itt", orgs[norgs].org, mname, when);
            int64_t mid = db_last_id(d);
            db_exec(d, "INSERT INTO party_member_households (member_id, household_id) SELECT ?, "
                       "id FROM households WHERE grid_id = ? ORDER BY id LIMIT 10", "II", mid,
                    pend[i].id);
        }
        norgs++;
    }
    free(pend);
    free(orgs);
    static const struct {
        const char *name, *kind;
    } reps[] = {{"周建国", "npc"}, {"吴秀英", "cppcc"}, {"郑德明", "party_congress"},
                {"冯玉兰", "npc"}, {"蒋志强", "party_congress"}};
    for (int i = 0; i < N(reps); i++)
        db_exec(d, "INSERT INTO representatives (name, kind, level, grid_id, created_at) VALUES "
                   "(?, ?, 'county', NULLIF(?, 0), ?)", "ttIt", reps[i].name, reps[i].kind,
                c->ng ? c->g[(i * 7) % c->ng].id : (int64_t)0, when);
    db_exec(d, "INSERT INTO dept_contacts (dept_id, name, title, phone, created_at) SELECT id, "
               "'办公室联系人', '办公室主任', '028-8800' || substr('0000' || id, -4), ? FROM "
               "departments", "t", when);
    if (reg_recount_grids(d) != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "demo: cannot count");
    json_t *detail = json_pack("{s:I, s:I}", "households", (json_int_t)c->households, "people",
                               (json_int_t)c->people);
    int rc = audit_record(d, c->a, "demo.registry", "registry", NULL, detail);
    json_decref(detail);
    return rc;
}

int demo_registry(store *st, const audit_actor *a, unsigned seed, const char *scale, werr *e)
{
    int rc = vault_ensure(st, e);
    if (rc != WOK)
        return rc;
    int64_t target = 5000;
    if (scale && !strcmp(scale, "county"))
        target = 50000;
    else if (scale && !strcmp(scale, "city"))
        target = 800000;
    /* the micro-grids: the deepest active level */
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    int cap = 1024, ng = 0;
    struct dgrid *g = malloc(sizeof *g * (size_t)cap);
    db_stmt *s = db_query(d, "SELECT id, code, coalesce(parent_id, 0), coalesce(min_lat, 30.0), "
                             "coalesce(min_lng, 103.8), coalesce(max_lat, 30.1), coalesce(max_lng, "
                             "103.9) FROM grids WHERE status = 'active' AND depth = (SELECT "
                             "max(depth) FROM grids WHERE status = 'active') ORDER BY code", "");
    while (g && s && db_step(s) == DB_ROW) {
        if (ng == cap) {
            cap *= 2;
            struct dgrid *n = realloc(g, sizeof *g * (size_t)cap);
            if (!n)
                break;
            g = n;
        }
        g[ng].id = db_col_int64(s, 0);
        snprintf(g[ng].code, sizeof g[ng].code, "%s", db_col_text(s, 1));
        g[ng].parent = db_col_int64(s, 2);
        g[ng].lat0 = db_col_double(s, 3);
        g[ng].lng0 = db_col_double(s, 4);
        g[ng].lat1 = db_col_double(s, 5);
        g[ng].lng1 = db_col_double(s, 6);
        ng++;
    }
    db_done(s);
    store_release(st, d);
    if (!g)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    name_places(g, ng, compounds, N(compounds));
    struct rng r = {0x9E3779B97F4A7C15ull ^ ((uint64_t)seed * 0x100000001B3ull) ^ 0xD1B54A32D192ED03ull};
    seq_per_day = calloc(80000, sizeof *seq_per_day);
    enum { BATCH = 5000 };
    struct dhouse *hs = malloc(sizeof *hs * BATCH);
    struct dperson *ps = malloc(sizeof *ps * BATCH * 6);
    if (!seq_per_day || !hs || !ps) {
        free(g), free(hs), free(ps), free(seq_per_day);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    int64_t made = 0, people = 0, serial = 0;
    int per_grid = ng ? (int)((target + ng - 1) / ng) : (int)target;
    int gi = 0, in_grid = 0;
    while (rc == WOK && made < target) {
        int nh = 0, npp = 0;
        while (nh < BATCH && made + nh < target) {
            struct dhouse *h = &hs[nh];
            struct dgrid *gg = ng ? &g[gi] : NULL;
            h->grid_id = gg ? gg->id : 0;
            /* one micro-grid ≈ one building: units of 2 rooms per floor */
            snprintf(h->compound, sizeof h->compound, "%s", gg ? gg->compound : compounds[0]);
            snprintf(h->building, sizeof h->building, "%d", gg ? gg->building : 1 + in_grid / 96);
            /* 12 floors of 2 rooms per unit; units as many as needed */
            snprintf(h->unit, sizeof h->unit, "%d", 1 + (in_grid / 24) % 1000);
            snprintf(h->room, sizeof h->room, "%d%02d", 1 + (in_grid % 24) / 2, 1 + in_grid % 2);
            if (ng && ++in_grid >= per_grid) {
                in_grid = 0;
                gi = (gi + 1) % ng;
            } else if (!ng) {
                in_grid++;
            }
            /* who lives here */
            int kind = below(&r, 100);
            int n = kind < 8 ? 0 : kind < 20 ? 1 : kind < 50 ? 2 : kind < 75 ? 3 : kind < 93 ? 4 : 5;
            h->npeople = n;
            h->first = npp;
            h->visit_days_ago = -1;
            const char *sur = surnames[below(&r, N(surnames))];
            for (int k = 0; k < n; k++) {
                struct dperson *p = &ps[npp++];
                int male = k == 0 ? below(&r, 100) < 60 : k == 1 ? 0 : below(&r, 2);
                int lo = k < 2 ? 28 : 1, hi = k < 2 ? 85 : 25;
                if (n == 1)
                    lo = 60, hi = 92; /* most who live alone are old */
                make_person(&r, p, male, lo, hi, k == 1 ? NULL : sur, (uint64_t)serial++);
                p->relation = k == 0 ? "户主" : k == 1 ? "配偶" : "子女";
                size_t tl = 0;
                int old = p->birth[0] && atoi(p->birth) < 1962;
                if (n == 1 && old)
                    tl += (size_t)snprintf(p->tags + tl, sizeof p->tags - tl, "elderly_alone");
                if (below(&r, 100) < 2)
                    tl += (size_t)snprintf(p->tags + tl, sizeof p->tags - tl, "%sdisabled",
                                           tl ? "," : "");
                if (k == 0 && below(&r, 100) < 3)
                    tl += (size_t)snprintf(p->tags + tl, sizeof p->tags - tl, "%slow_income",
                                           tl ? "," : "");
                if (below(&r, 1000) < 5)
                    snprintf(p->tags + tl, sizeof p->tags - tl, "%sspecial", tl ? "," : "");
            }
            if (n && ps[h->first].tags[0] && below(&r, 100) < 60)
                h->visit_days_ago = below(&r, 40);
            people += n;
            nh++;
        }
        struct batch b = {a, hs, nh, ps, clock_now(), &r, e};
        rc = store_write(st, batch_tx, &b);
        made += nh;
    }
    if (rc == WOK) {
        struct finish_ctx c = {a, g, ng, made, people, &r, e};
        rc = store_write(st, finish_tx, &c);
    }
    free(g);
    free(hs);
    free(ps);
    free(seq_per_day);
    seq_per_day = NULL;
    if (rc != WOK && !e->message[0])
        werr_set(e, rc, "demo_failed", "demo registry failed");
    return rc;
}
