/*
 * demo_grid.c — the demo county's grid tree (示范县, code 511423):
 * levels 县 → 街道 → 社区 → 网格 → 微网格, quad polygons that tile the
 * county exactly, people in charge and 包保单位. Deterministic from the
 * seed.
 *
 * Tiling without gaps or overlaps: every polygon is a rectangle of cells
 * of one lattice of (jittered) points, walked along its boundary through
 * every lattice point. Neighbours therefore share exactly the same vertices
 * (printed by the same function, so bit-identical), and the half-open
 * point-in-polygon rule puts every point in exactly one micro-grid.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid_impl.h"
#include "wbuf.h"

struct layout {
    const char *scale;
    int sx[4], sy[4];    /* per level below the county: street, community, grid, micro */
    double lng0, lat0, w, h;
};

static const struct layout layouts[] = {
    {"small", {3, 1, 2, 2}, {1, 3, 2, 2}, 103.80, 30.00, 0.10, 0.10},
    {"county", {4, 2, 3, 2}, {2, 3, 3, 3}, 103.70, 29.90, 0.30, 0.30},
    {"city", {5, 4, 4, 5}, {4, 4, 4, 4}, 103.40, 29.70, 0.80, 0.60},
};

static const char *const streets[] = {
    "晋原街道", "东街街道", "西城街道", "南河街道", "北苑街道", "安仁镇",   "悦来镇",
    "花水湾镇", "西岭镇",   "出江镇",   "鹤鸣镇",   "王泗镇",   "新场镇",   "韩场镇",
    "三岔镇",   "青霞街道", "金星街道", "龙潭街道", "桃源街道", "凤凰街道",
};
static const char *const communities[] = {
    "锦屏", "文庙", "子龙", "沙渠", "凤凰", "银杏", "川西", "玉龙", "石桥", "东门",
    "滨河", "桂花", "学府", "新华", "和平", "建设", "幸福", "枫林", "清泉", "双河",
    "南桥", "北街", "龙泉", "柳湾", "金鸡", "白马", "青龙", "水井", "光华", "荷花",
};
static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
    "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
    "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶",
};
static const char *const given[] = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强", "春梅", "海燕",
    "德明", "玉兰", "国庆", "红梅", "文", "琴", "斌", "晓东", "丹", "雪", "凤", "建国",
};
static const char *const depts[] = {"CGJ", "ZJJ", "GAJ", "SWJ", "SCJ", "HBJ", "MZJ", "YJJ"};
static const char *const grid_kinds[] = {"residential", "residential", "residential", "rural",
                                         "shops", "institution", "park", "scenic"};

#define N(a) ((int)(sizeof a / sizeof a[0]))

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

typedef struct rng {
    uint64_t s;
} rng;

static uint32_t next(rng *r)
{
    r->s = mix(r->s);
    return (uint32_t)(r->s >> 32);
}

static void person(rng *r, char *name, size_t nn, char *phone, size_t pn)
{
    snprintf(name, nn, "%s%s", surnames[next(r) % N(surnames)], given[next(r) % N(given)]);
    static const char *const pre[] = {"138", "139", "135", "136", "158", "159", "187", "189",
                                      "177", "151"};
    snprintf(phone, pn, "%s%08u", pre[next(r) % 10], next(r) % 100000000u);
}

struct demo_ctx {
    const audit_actor *a;
    const struct layout *L;
    uint64_t seed;
    int nx, ny;
    double dx, dy;
    int64_t dept_ids[N(depts)];
    int created;
    werr *e;
};

/* Lattice point (i, j): interior points jittered (up to 18% of a cell),
 * the county's outline straight. Deterministic from the seed. */
static void lattice(const struct demo_ctx *c, int i, int j, double *x, double *y)
{
    *x = c->L->lng0 + i * c->dx;
    *y = c->L->lat0 + j * c->dy;
    if (i > 0 && i < c->nx && j > 0 && j < c->ny) {
        uint64_t h = mix(c->seed ^ ((uint64_t)i << 32) ^ (uint64_t)j);
        *x += ((double)(h & 0xffff) / 65535.0 - 0.5) * 0.36 * c->dx;
        *y += ((double)((h >> 16) & 0xffff) / 65535.0 - 0.5) * 0.36 * c->dy;
    }
}

/* The polygon of lattice cells [i0, i1) × [j0, j1), walked counter-
 * clockwise through every lattice point of its boundary. */
static char *rect_polygon(const struct demo_ctx *c, int i0, int j0, int i1, int j1, double bb[4])
{
    wbuf b = WBUF_INIT;
    wbuf_puts(&b, "{\"type\":\"Polygon\",\"coordinates\":[[");
    bb[0] = bb[1] = 1e9;
    bb[2] = bb[3] = -1e9;
    int first = 1;
#define PT(I, J)                                                                                   \
    do {                                                                                           \
        double x, y;                                                                               \
        lattice(c, (I), (J), &x, &y);                                                              \
        wbuf_printf(&b, "%s[%.7f,%.7f]", first ? "" : ",", x, y);                                  \
        first = 0;                                                                                 \
        if (y < bb[0]) bb[0] = y;                                                                  \
        if (x < bb[1]) bb[1] = x;                                                                  \
        if (y > bb[2]) bb[2] = y;                                                                  \
        if (x > bb[3]) bb[3] = x;                                                                  \
    } while (0)
    for (int i = i0; i < i1; i++)
        PT(i, j0);
    for (int j = j0; j < j1; j++)
        PT(i1, j);
    for (int i = i1; i > i0; i--)
        PT(i, j1);
    for (int j = j1; j >= j0; j--)
        PT(i0, j);
#undef PT
    wbuf_puts(&b, "]]}");
    /* the bounding box from the printed (rounded) values */
    bb[0] = floor(bb[0] * 1e7 + 0.5) / 1e7 - 1e-7;
    bb[1] = floor(bb[1] * 1e7 + 0.5) / 1e7 - 1e-7;
    bb[2] = floor(bb[2] * 1e7 + 0.5) / 1e7 + 1e-7;
    bb[3] = floor(bb[3] * 1e7 + 0.5) / 1e7 + 1e-7;
    return wbuf_steal(&b, NULL);
}

static int add_grid(db *d, struct demo_ctx *c, const char *code, int64_t parent, int depth,
                    const char *name, const char *kind, int i0, int j0, int i1, int j1,
                    int64_t dept, int64_t *id)
{
    double bb[4];
    char *geom = rect_polygon(c, i0, j0, i1, j1, bb);
    if (!geom)
        return werr_set(c->e, W_EINTERNAL, "out_of_memory", "out of memory");
    grid_row r = {code, parent, depth, name, kind, geom, bb[0], bb[1], bb[2], bb[3],
                  dept, NULL, NULL, 0, 0};
    int rc = grid_insert_row(d, &r, id);
    free(geom);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "demo: cannot create grid %s", code);
    c->created++;
    return WOK;
}

static int add_duty(db *d, int64_t grid, const char *duty, const char *name, const char *phone,
                    int pos)
{
    return db_exec(d, "INSERT INTO grid_duties (grid_id, duty, name, phone, position) "
                      "VALUES (?, ?, ?, ?, ?)", "Ittti", grid, duty, name, phone, pos);
}

static int demo_tx(db *d, void *arg)
{
    struct demo_ctx *c = arg;
    /* a write fn may run twice (store.h): start from a clean slate */
    c->created = 0;
    const struct layout *L = c->L;
    static const char *const lv[][3] = {{"county", "县", "6"},
                                        {"street", "街道", "3"},
                                        {"community", "社区", "3"},
                                        {"grid", "网格", "3"},
                                        {"micro_grid", "微网格", "3"}};
    db_exec(d, "DELETE FROM grid_levels", "");
    for (int k = 0; k < 5; k++)
        if (db_exec(d, "INSERT INTO grid_levels (depth, name, label_zh, code_width) "
                       "VALUES (?, ?, ?, ?)", "itti", k, lv[k][0], lv[k][1], atoi(lv[k][2])) != WOK)
            return werr_set(c->e, W_EINTERNAL, "database_error", "demo: cannot write levels");
    for (int k = 0; k < N(depts); k++) {
        db_stmt *s = db_query(d, "SELECT id FROM departments WHERE code = ?", "t", depts[k]);
        c->dept_ids[k] = s && db_step(s) == DB_ROW ? db_col_int64(s, 0) : 0;
        db_done(s);
    }
    rng r = {c->seed};
    int64_t county;
    int rc = add_grid(d, c, "511423", 0, 0, "示范县", "other", 0, 0, c->nx, c->ny, 0, &county);
    /* cells per unit at each level */
    int cx[4], cy[4];
    cx[3] = 1, cy[3] = 1;
    for (int k = 2; k >= 0; k--)
        cx[k] = cx[k + 1] * L->sx[k + 1], cy[k] = cy[k + 1] * L->sy[k + 1];
    int ns = L->sx[0] * L->sy[0];
    char name[128], nm[64], ph[24], code[64];
    for (int s = 0; rc == WOK && s < ns; s++) {
        int si = (s % L->sx[0]) * cx[0], sj = (s / L->sx[0]) * cy[0];
        snprintf(code, sizeof code, "511423%03d", s + 1);
        char scode[64];
        snprintf(scode, sizeof scode, "%s", code);
        int64_t sid;
        rc = add_grid(d, c, scode, county, 1, streets[s % N(streets)], "other", si, sj,
                      si + cx[0], sj + cy[0], 0, &sid);
        int nc = L->sx[1] * L->sy[1];
        for (int m = 0; rc == WOK && m < nc; m++) {
            int ci = si + (m % L->sx[1]) * cx[1], cj = sj + (m / L->sx[1]) * cy[1];
            char ccode[64];
            snprintf(ccode, sizeof ccode, "%.50s%03d", scode, (m + 1) % 1000);
            int ci_name = (int)((s * 7 + m * 3) % N(communities));
            snprintf(name, sizeof name, "%s社区", communities[ci_name]);
            if (s >= N(streets) || (s * nc + m) >= N(communities))
                snprintf(name, sizeof name, "%s%d社区", communities[ci_name], s * nc + m + 1);
            int64_t cid;
            int64_t dept = c->dept_ids[(s * nc + m) % N(depts)];
            rc = add_grid(d, c, ccode, sid, 2, name, "residential", ci, cj, ci + cx[1],
                          cj + cy[1], dept, &cid);
            int ng = L->sx[2] * L->sy[2];
            for (int g = 0; rc == WOK && g < ng; g++) {
                int gi = ci + (g % L->sx[2]) * cx[2], gj = cj + (g / L->sx[2]) * cy[2];
                char gcode[64];
                snprintf(gcode, sizeof gcode, "%.50s%03d", ccode, (g + 1) % 1000);
                snprintf(name, sizeof name, "第%d网格", g + 1);
                const char *kind = grid_kinds[next(&r) % N(grid_kinds)];
                int64_t gid;
                rc = add_grid(d, c, gcode, cid, 3, name, kind, gi, gj, gi + cx[2], gj + cy[2],
                              dept, &gid);
                /* 网格长 and 网格员; the demo account "gridworker" is 刘网格 of the
                 * first grid */
                person(&r, nm, sizeof nm, ph, sizeof ph);
                if (rc == WOK)
                    rc = add_duty(d, gid, "grid_head", nm, ph, 0);
                if (strcmp(gcode, "511423001001001") == 0)
                    snprintf(nm, sizeof nm, "刘网格"), snprintf(ph, sizeof ph, "13800000001");
                else
                    person(&r, nm, sizeof nm, ph, sizeof ph);
                if (rc == WOK)
                    rc = add_duty(d, gid, "grid_worker", nm, ph, 1);
                int nmi = L->sx[3] * L->sy[3];
                for (int u = 0; rc == WOK && u < nmi; u++) {
                    int ui = gi + (u % L->sx[3]), uj = gj + (u / L->sx[3]);
                    char ucode[64];
                    snprintf(ucode, sizeof ucode, "%.50s%03d", gcode, (u + 1) % 1000);
                    snprintf(name, sizeof name, "%s第%d微网格", kind[0] == 'r' && kind[1] == 'u'
                                                                  ? "院落"
                                                                  : "",
                             u + 1);
                    int64_t uid;
                    rc = add_grid(d, c, ucode, gid, 4, name, kind, ui, uj, ui + 1, uj + 1, dept,
                                  &uid);
                    person(&r, nm, sizeof nm, ph, sizeof ph);
                    if (rc == WOK)
                        rc = add_duty(d, uid, "micro_head", nm, ph, 0);
                    if (rc == WOK && next(&r) % 3 == 0) {
                        person(&r, nm, sizeof nm, ph, sizeof ph);
                        rc = add_duty(d, uid, "party_household", nm, ph, 1);
                    }
                }
            }
        }
    }
    if (rc != WOK)
        return rc == W_EINTERNAL && c->e->rc ? rc
                                             : werr_set(c->e, rc, "database_error",
                                                        "demo: cannot write grids");
    json_t *detail = json_pack("{s:s, s:i}", "scale", L->scale, "grids", c->created);
    rc = audit_record(d, c->a, "grid.demo", "grid", "511423", detail);
    json_decref(detail);
    return rc == WOK ? grid_bump_generation(d) : rc;
}

int demo_grids(store *st, const audit_actor *a, unsigned seed, const char *scale, werr *e)
{
    const struct layout *L = &layouts[0];
    for (int i = 0; i < N(layouts); i++)
        if (scale && strcmp(scale, layouts[i].scale) == 0)
            L = &layouts[i];
    struct demo_ctx c = {.a = a, .L = L, .seed = mix(seed), .e = e};
    c.nx = L->sx[0] * L->sx[1] * L->sx[2] * L->sx[3];
    c.ny = L->sy[0] * L->sy[1] * L->sy[2] * L->sy[3];
    c.dx = L->w / c.nx;
    c.dy = L->h / c.ny;
    return store_write(st, demo_tx, &c);
}
