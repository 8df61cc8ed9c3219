/*
 * report.c — the monthly report (月专报) and the document renderers.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "assessment.h"
#include "catalog.h"
#include "clock.h"
#include "indicators.h"

int report_format_parse(const char *s)
{
    if (!s || strcmp(s, "html") == 0)
        return REPORT_HTML;
    if (strcmp(s, "csv") == 0)
        return REPORT_CSV;
    if (strcmp(s, "xlsx") == 0)
        return REPORT_XLSX;
    if (strcmp(s, "json") == 0)
        return REPORT_JSON;
    return -1;
}

const char *report_content_type(int format)
{
    switch (format) {
    case REPORT_CSV: return "text/csv; charset=utf-8";
    case REPORT_XLSX: return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    case REPORT_JSON: return "application/json";
    default: return "text/html; charset=utf-8";
    }
}

const char *report_extension(int format)
{
    static const char *const ext[] = {"html", "csv", "xlsx", "json"};
    return format >= 0 && format <= REPORT_JSON ? ext[format] : "html";
}

/* ---- model helpers -------------------------------------------------------- */

json_t *report_section(const char *id, const char *title, const char *const *columns)
{
    json_t *cols = json_array();
    for (int i = 0; columns[i]; i++) {
        char buf[200];
        snprintf(buf, sizeof buf, "%s", columns[i]);
        char *key = buf, *label = strchr(buf, ':');
        char *type = NULL;
        if (label) {
            *label++ = '\0';
            type = strchr(label, ':');
            if (type)
                *type++ = '\0';
        }
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s}", "key", key, "label",
                                               label ? label : key, "type",
                                               type ? type : "text"));
    }
    return json_pack("{s:s, s:s, s:o, s:[]}", "id", id, "title", title, "columns", cols,
                     "rows");
}

json_t *report_rows(json_t *section)
{
    return json_object_get(section, "rows");
}

static json_t *rate_json(int64_t num, int64_t den)
{
    return den > 0 ? json_real((double)num / (double)den) : json_null();
}

/* ---- renderers ------------------------------------------------------------ */

static void cell_text(json_t *v, const char *type, char *out, size_t cap, int for_csv)
{
    if (!v || json_is_null(v)) {
        snprintf(out, cap, "%s", for_csv ? "" : "—");
    } else if (json_is_string(v)) {
        snprintf(out, cap, "%s", json_string_value(v));
    } else if (strcmp(type, "rate") == 0 && json_is_number(v)) {
        snprintf(out, cap, "%.1f%%", json_number_value(v) * 100.0);
    } else if (json_is_integer(v)) {
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(out, cap, "%.2f", json_real_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(out, cap, "%s", json_is_true(v) ? "是" : "否");
    } else {
        snprintf(out, cap, "?");
    }
}

static const char print_css[] =
    "@page{size:A4;margin:14mm 12mm 16mm 12mm}"
    "*{box-sizing:border-box}"
    "body{font-family:'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',"
    "'Microsoft YaHei',sans-serif;font-size:10.5pt;color:#111;margin:0 auto;max-width:190mm}"
    "h1{font-size:18pt;text-align:center;margin:4mm 0 1mm}"
    ".sub{text-align:center;color:#444;margin:0 0 5mm}"
    "h2{font-size:12.5pt;border-left:4px solid #b22;padding-left:6px;margin:6mm 0 2mm;"
    "page-break-after:avoid;break-after:avoid}"
    ".note{color:#555;font-size:9pt;margin:0 0 2mm}"
    "table{width:100%;border-collapse:collapse;margin:0 0 3mm;font-size:9pt}"
    "thead{display:table-header-group}tfoot{display:table-footer-group}"
    "th,td{border:1px solid #999;padding:2px 4px;vertical-align:top}"
    "th{background:#eee;font-weight:600}"
    "td.n{text-align:right;white-space:nowrap}td.t{white-space:nowrap}"
    "tr{page-break-inside:avoid;break-inside:avoid}"
    ".empty{color:#777;font-style:italic}"
    "@media print{body{max-width:none}a{color:inherit;text-decoration:none}"
    "section{break-inside:auto}}"
    "@media screen{body{padding:8mm}}";

void report_render_html(json_t *doc, wbuf *b)
{
    const char *title = json_string_value(json_object_get(doc, "title"));
    wbuf_puts(b, "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>");
    wbuf_html(b, title ? title : "");
    wbuf_puts(b, "</title><style>");
    wbuf_puts(b, print_css);
    wbuf_puts(b, "</style></head><body><h1>");
    wbuf_html(b, title ? title : "");
    wbuf_puts(b, "</h1>");
    const char *sub = json_string_value(json_object_get(doc, "subtitle"));
    if (sub) {
        wbuf_puts(b, "<p class=\"sub\">");
        wbuf_html(b, sub);
        wbuf_puts(b, "</p>");
    }
    size_t i;
    json_t *sec;
    json_array_foreach(json_object_get(doc, "sections"), i, sec)
    {
        wbuf_puts(b, "<section id=\"");
        wbuf_html(b, json_string_value(json_object_get(sec, "id")));
        wbuf_puts(b, "\"><h2>");
        wbuf_html(b, json_string_value(json_object_get(sec, "title")));
        wbuf_puts(b, "</h2>");
        const char *note = json_string_value(json_object_get(sec, "note"));
        if (note) {
            wbuf_puts(b, "<p class=\"note\">");
            wbuf_html(b, note);
            wbuf_puts(b, "</p>");
        }
        json_t *cols = json_object_get(sec, "columns"), *rows = json_object_get(sec, "rows");
        if (json_array_size(rows) == 0) {
            wbuf_puts(b, "<p class=\"empty\">无 (none)</p></section>");
            continue;
        }
        wbuf_puts(b, "<table><thead><tr>");
        size_t c;
        json_t *col;
        json_array_foreach(cols, c, col)
        {
            wbuf_puts(b, "<th>");
            wbuf_html(b, json_string_value(json_object_get(col, "label")));
            wbuf_puts(b, "</th>");
        }
        wbuf_puts(b, "</tr></thead><tbody>");
        size_t r;
        json_t *row;
        json_array_foreach(rows, r, row)
        {
            wbuf_puts(b, "<tr>");
            json_array_foreach(cols, c, col)
            {
                const char *type = json_string_value(json_object_get(col, "type"));
                char cell[1024];
                cell_text(json_array_get(row, c), type, cell, sizeof cell, 0);
                wbuf_puts(b, strcmp(type, "time") == 0   ? "<td class=\"t\">"
                             : strcmp(type, "text") ? "<td class=\"n\">"
                                                    : "<td>");
                wbuf_html(b, cell);
                wbuf_puts(b, "</td>");
            }
            wbuf_puts(b, "</tr>");
        }
        wbuf_puts(b, "</tbody></table></section>");
    }
    const char *gen = json_string_value(json_object_get(doc, "generated_at"));
    wbuf_puts(b, "<p class=\"note\">生成时间 generated ");
    wbuf_html(b, gen ? gen : "");
    wbuf_puts(b, " · whistle</p></body></html>\n");
}

void report_render_csv(json_t *doc, wbuf *b)
{
    /* UTF-8 BOM: Chinese Excel opens the file in the right encoding */
    wbuf_puts(b, "\xEF\xBB\xBF");
    wbuf_csv(b, json_string_value(json_object_get(doc, "title")));
    wbuf_puts(b, "\r\n");
    size_t i;
    json_t *sec;
    json_array_foreach(json_object_get(doc, "sections"), i, sec)
    {
        wbuf_puts(b, "\r\n");
        wbuf_csv(b, json_string_value(json_object_get(sec, "title")));
        wbuf_puts(b, "\r\n");
        json_t *cols = json_object_get(sec, "columns");
        size_t c;
        json_t *col;
        json_array_foreach(cols, c, col)
        {
            if (c)
                wbuf_putc(b, ',');
            wbuf_csv(b, json_string_value(json_object_get(col, "label")));
        }
        wbuf_puts(b, "\r\n");
        size_t r;
        json_t *row;
        json_array_foreach(json_object_get(sec, "rows"), r, row)
        {
            json_array_foreach(cols, c, col)
            {
                if (c)
                    wbuf_putc(b, ',');
                char cell[1024];
                cell_text(json_array_get(row, c),
                          json_string_value(json_object_get(col, "type")), cell, sizeof cell, 1);
                wbuf_csv(b, cell);
            }
            wbuf_puts(b, "\r\n");
        }
    }
}

/* Sheet names: at most 31 characters, none of []:*?/\, unique. */
static void sheet_name(const char *title, int idx, char *out, size_t cap)
{
    char tmp[128];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)title; *p && n < sizeof tmp - 4;) {
        /* copy whole UTF-8 characters, counting characters (Excel's limit) */
        int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : 4;
        if (strchr("[]:*?/\\", *p) && len == 1) {
            p++;
            continue;
        }
        for (int k = 0; k < len && p[k]; k++)
            tmp[n++] = (char)p[k];
        p += len;
    }
    tmp[n] = '\0';
    /* keep at most 24 characters of the title, then the index */
    size_t chars = 0, cut = 0;
    for (size_t k = 0; k < n; k++)
        if (((unsigned char)tmp[k] & 0xC0) != 0x80) {
            if (chars == 24) {
                cut = k;
                break;
            }
            chars++;
        }
    if (cut)
        tmp[cut] = '\0';
    snprintf(out, cap, "%d %s", idx, tmp);
}

int report_render_xlsx(json_t *doc, char **out, size_t *len, werr *e)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/whistle-xlsx-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return werr_set(e, W_EINTERNAL, "io_error", "cannot create a temporary file");
    close(fd);
    lxw_workbook *wb = workbook_new(path);
    if (!wb) {
        unlink(path);
        return werr_set(e, W_EINTERNAL, "xlsx_error", "cannot create the workbook");
    }
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    format_set_bg_color(bold, 0xEEEEEE);
    format_set_border(bold, LXW_BORDER_THIN);
    lxw_format *title_fmt = workbook_add_format(wb);
    format_set_bold(title_fmt);
    format_set_font_size(title_fmt, 13);
    lxw_format *pct = workbook_add_format(wb);
    format_set_num_format(pct, "0.0%");
    lxw_format *num = workbook_add_format(wb);
    format_set_num_format(num, "0.00");
    size_t i;
    json_t *sec;
    json_array_foreach(json_object_get(doc, "sections"), i, sec)
    {
        char name[64];
        sheet_name(json_string_value(json_object_get(sec, "title")), (int)i + 1, name,
                   sizeof name);
        lxw_worksheet *ws = workbook_add_worksheet(wb, name);
        if (!ws)
            continue;
        worksheet_write_string(ws, 0, 0, json_string_value(json_object_get(sec, "title")),
                               title_fmt);
        json_t *cols = json_object_get(sec, "columns");
        size_t c;
        json_t *col;
        json_array_foreach(cols, c, col)
        {
            worksheet_write_string(ws, 1, (lxw_col_t)c,
                                   json_string_value(json_object_get(col, "label")), bold);
            worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, c == 0 ? 22 : 14, NULL);
        }
        worksheet_freeze_panes(ws, 2, 0);
        size_t r;
        json_t *row;
        json_array_foreach(json_object_get(sec, "rows"), r, row)
        {
            lxw_row_t y = (lxw_row_t)(r + 2);
            json_array_foreach(cols, c, col)
            {
                json_t *v = json_array_get(row, c);
                const char *type = json_string_value(json_object_get(col, "type"));
                if (!v || json_is_null(v))
                    continue;
                if (json_is_number(v))
                    worksheet_write_number(ws, y, (lxw_col_t)c, json_number_value(v),
                                           strcmp(type, "rate") == 0   ? pct
                                           : json_is_real(v) ? num
                                                             : NULL);
                else if (json_is_string(v))
                    worksheet_write_string(ws, y, (lxw_col_t)c, json_string_value(v), NULL);
                else if (json_is_boolean(v))
                    worksheet_write_boolean(ws, y, (lxw_col_t)c, json_is_true(v), NULL);
            }
        }
    }
    lxw_error err = workbook_close(wb);
    if (err != LXW_NO_ERROR) {
        unlink(path);
        return werr_set(e, W_EINTERNAL, "xlsx_error", "cannot write the workbook: %s",
                        lxw_strerror(err));
    }
    FILE *f = fopen(path, "rb");
    unlink(path);
    if (!f)
        return werr_set(e, W_EINTERNAL, "io_error", "cannot read the workbook");
    wbuf b = WBUF_INIT;
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        wbuf_add(&b, buf, n);
    fclose(f);
    *out = wbuf_steal(&b, len);
    if (!*out)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    return WOK;
}

int report_render(json_t *doc, int format, char **out, size_t *len, werr *e)
{
    if (format == REPORT_XLSX)
        return report_render_xlsx(doc, out, len, e);
    wbuf b = WBUF_INIT;
    if (format == REPORT_CSV) {
        report_render_csv(doc, &b);
    } else if (format == REPORT_JSON) {
        char *s = json_dumps(doc, JSON_COMPACT);
        if (s)
            wbuf_puts(&b, s);
        free(s);
    } else {
        report_render_html(doc, &b);
    }
    *out = wbuf_steal(&b, len);
    if (!*out)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    return WOK;
}

/* ---- the monthly report ---------------------------------------------------- */

/* The month's figures. The summary shows no balance of now (overdue now,
 * unsigned now): only the department table asks for them. */
static int query_month(db *d, int month, int group, int64_t now, ind_result *out, werr *e)
{
    ind_filter f = {0};
    month_range(month, &f.from, &f.to);
    f.dept_id = -1;
    f.group = group;
    f.now = now;
    f.no_now = group == IG_NONE;
    return indicators_query(d, &f, out, e);
}

static const ind_row *first_row(const ind_result *r)
{
    static const ind_row zero = {.p90_minutes = -1};
    return r->n ? &r->rows[0] : &zero;
}

static json_t *hours(int64_t minutes, int64_t n)
{
    return n > 0 ? json_real(round((double)minutes / (double)n / 60.0 * 100) / 100) : json_null();
}

/* Change between two values as text: counts in %, rates in points. */
static json_t *change_text(json_t *cur, json_t *prev, int is_rate)
{
    if (!json_is_number(cur) || !json_is_number(prev))
        return json_null();
    double a = json_number_value(cur), b = json_number_value(prev);
    char buf[48];
    if (is_rate)
        snprintf(buf, sizeof buf, "%+.1f 个百分点", (a - b) * 100.0);
    else if (b == 0)
        snprintf(buf, sizeof buf, "%s", a == 0 ? "持平" : "新增");
    else
        snprintf(buf, sizeof buf, "%+.1f%%", (a - b) / b * 100.0);
    return json_string(buf);
}

static json_t *summary_value(const ind_row *r, const char *what, int *is_rate)
{
    *is_rate = 0;
    for (int c = 0; c < SC__COUNT; c++)
        if (strcmp(stats_col_names[c], what) == 0)
            return json_integer(r->v[c]);
    if (strcmp(what, "overdue") == 0)
        return json_integer(r->overdue + r->v[SC_overdue_done]);
    if (strcmp(what, "carried_in") == 0)
        return json_integer(r->carried_in);
    if (strcmp(what, "notices") == 0)
        return json_integer(r->notices);
    if (strcmp(what, "avg_hours") == 0)
        return hours(r->v[SC_handled_minutes], r->v[SC_closed]);
    if (strcmp(what, "p90_hours") == 0)
        return r->p90_minutes >= 0 ? json_real(round(r->p90_minutes / 60.0 * 100) / 100)
                                   : json_null();
    int64_t num, den;
    if (ind_rate_parts(r, what, &num, &den) == 0) {
        *is_rate = 1;
        return rate_json(num, den);
    }
    return json_null();
}

static const struct {
    const char *key, *label;
} summary_items[] = {
    {"received", "受理问题 received"},
    {"accepted", "立案 accepted"},
    {"onsite", "即时办结 resolved on site"},
    {"dispatched", "派遣 dispatched"},
    {"closed", "办结 closed"},
    {"closed_ontime", "按期办结 closed on time"},
    {"overdue", "超期 overdue"},
    {"returned", "退单 returned"},
    {"reworks", "返工 reworks"},
    {"notices", "督办单 supervision notices"},
    {"response_rate", "响应率 response rate"},
    {"completion_rate", "办结率 completion rate"},
    {"ontime_rate", "按期办结率 on-time rate"},
    {"return_rate", "退单率 return rate"},
    {"rework_rate", "返工率 rework rate"},
    {"satisfaction_rate", "满意率 satisfaction rate"},
    {"avg_hours", "平均办理时长(工作小时) avg handling hours"},
    {"p90_hours", "90%办理时长(工作小时) p90 handling hours"},
};

static json_t *dept_names(db *d)
{
    json_t *m = json_object();
    db_stmt *s = db_query(d, "SELECT id, name FROM departments", "");
    while (s && db_step(s) == DB_ROW) {
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)db_col_int64(s, 0));
        json_object_set_new(m, k, json_string(db_col_text(s, 1) ? db_col_text(s, 1) : k));
    }
    db_done(s);
    return m;
}

static const char *dept_name(json_t *names, int64_t id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%lld", (long long)id);
    const char *n = json_string_value(json_object_get(names, buf));
    if (id == 0)
        return "治理服务中心 (未派遣)";
    return n ? n : buf;
}

static void fmt_time(int64_t t, char out[32])
{
    if (t <= 0) {
        out[0] = '\0';
        return;
    }
    clock_format_local(t, out);
    /* "2026-10-05T09:30:00+08:00" → "2026-10-05 09:30" */
    if (strlen(out) >= 16) {
        out[10] = ' ';
        out[16] = '\0';
    }
}

static const char *cat_label(catalog *cat, const char *code)
{
    const struct cat_category *c = cat && code ? catalog_find(cat, code) : NULL;
    return c && c->name ? c->name : (code && *code ? code : "(未分类)");
}

static void add_ranking(json_t *doc, db *d, int month, int kind, int64_t now, werr *e)
{
    json_t *a = NULL;
    if (assessment_month(d, month, kind, now, 0, &a, e) != WOK)
        return;
    static const char *const cols[] = {"rank:名次 rank:int",
                                       "subject:单位 unit",
                                       "score:得分 score:num",
                                       "points:指标得分 points:num",
                                       "deductions:扣分 deductions:num",
                                       "response_rate:响应率:rate",
                                       "completion_rate:办结率:rate",
                                       "satisfaction_rate:满意率:rate",
                                       "dispatched:派遣:int",
                                       "closed:办结:int",
                                       NULL};
    static const char *const titles[] = {"部门考核排名 department ranking",
                                         "街道(乡镇)排名 street ranking",
                                         "社区(村)排名 community ranking"};
    static const char *const ids[] = {"rank_dept", "rank_street", "rank_community"};
    json_t *sec = report_section(ids[kind], titles[kind], cols);
    char note[300];
    json_t *rules = json_object_get(a, "rules");
    const char *vf = json_string_value(json_object_get(rules, "valid_from"));
    snprintf(note, sizeof note,
             "得分 = Σ 权重 × 指标率（按本月适用的考核规则，%s%s）− 扣分（乱吹哨、迟签收、推诿扯皮、超期）。",
             vf ? "规则生效于 " : "默认规则", vf ? vf : "");
    json_object_set_new(sec, "note", json_string(note));
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(a, "items"), i, it)
    {
        if (kind != ASSESS_DEPT && json_is_null(json_object_get(it, "score")))
            continue; /* areas without orders this month */
        json_t *ind = json_object_get(it, "indicators");
        json_t *rates = json_object_get(ind, "rates"), *counts = json_object_get(ind, "counts");
        json_array_append_new(
            report_rows(sec),
            json_pack("[O, O, O, O, O, O, O, O, O, O]", json_object_get(it, "rank"),
                      json_object_get(it, "label"), json_object_get(it, "score"),
                      json_object_get(it, "points"), json_object_get(it, "deductions"),
                      json_object_get(json_object_get(rates, "response_rate"), "value")
                          ?: json_null(),
                      json_object_get(json_object_get(rates, "completion_rate"), "value")
                          ?: json_null(),
                      json_object_get(json_object_get(rates, "satisfaction_rate"), "value")
                          ?: json_null(),
                      json_object_get(counts, "dispatched") ?: json_integer(0),
                      json_object_get(counts, "closed") ?: json_integer(0)));
    }
    json_array_append_new(json_object_get(doc, "sections"), sec);
    json_decref(a);
}

int report_monthly(store *st, db *d, int month, int64_t now, json_t **out, werr *e)
{
    int prev = month_add(month, -1), yoy = month_add(month, -12);
    ind_result cur = {0}, pm = {0}, ly = {0}, depts = {0};
    int rc = query_month(d, month, IG_NONE, now, &cur, e);
    if (rc == WOK)
        rc = query_month(d, prev, IG_NONE, now, &pm, e);
    if (rc == WOK)
        rc = query_month(d, yoy, IG_NONE, now, &ly, e);
    if (rc == WOK)
        rc = query_month(d, month, IG_DEPT, now, &depts, e);
    if (rc != WOK) {
        ind_result_free(&cur);
        ind_result_free(&pm);
        ind_result_free(&ly);
        ind_result_free(&depts);
        return rc;
    }
    char title[128], gen[32], sub[200];
    snprintf(title, sizeof title, "%d年%d月 吹哨报到工作月专报", month / 100, month % 100);
    clock_format_local(now, gen);
    snprintf(sub, sizeof sub, "Monthly report %04d-%02d · 数据截至 %s", month / 100,
             month % 100, gen);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "title", title, "subtitle", sub,
                            "generated_at", gen, "month", "", "sections");
    char mtxt[16];
    snprintf(mtxt, sizeof mtxt, "%04d-%02d", month / 100, month % 100);
    json_object_set_new(doc, "month", json_string(mtxt));
    json_t *sections = json_object_get(doc, "sections");

    /* 1. summary against the previous month and the same month last year */
    static const char *const scols[] = {"indicator:指标 indicator",
                                        "cur:本月 this month",
                                        "prev:上月 previous month",
                                        "mom:环比 change",
                                        "yoy_value:去年同月 same month last year",
                                        "yoy:同比 change",
                                        NULL};
    json_t *sum = report_section("summary", "一、总体情况 summary", scols);
    for (size_t i = 0; i < sizeof summary_items / sizeof summary_items[0]; i++) {
        int r1, r2, r3;
        json_t *a = summary_value(first_row(&cur), summary_items[i].key, &r1);
        json_t *b = summary_value(first_row(&pm), summary_items[i].key, &r2);
        json_t *c = summary_value(first_row(&ly), summary_items[i].key, &r3);
        /* rates as text so that CSV/XLSX show them like the page */
        json_array_append_new(report_rows(sum),
                              json_pack("[s, o, o, o, o, o]", summary_items[i].label,
                                        r1 && json_is_number(a)
                                            ? json_sprintf("%.1f%%", json_number_value(a) * 100)
                                            : json_incref(a),
                                        r2 && json_is_number(b)
                                            ? json_sprintf("%.1f%%", json_number_value(b) * 100)
                                            : json_incref(b),
                                        change_text(a, b, r1),
                                        r3 && json_is_number(c)
                                            ? json_sprintf("%.1f%%", json_number_value(c) * 100)
                                            : json_incref(c),
                                        change_text(a, c, r1)));
        json_decref(a);
        json_decref(b);
        json_decref(c);
    }
    json_array_append_new(sections, sum);

    /* 2–4. rankings */
    add_ranking(doc, d, month, ASSESS_DEPT, now, e);
    add_ranking(doc, d, month, ASSESS_STREET, now, e);
    add_ranking(doc, d, month, ASSESS_COMMUNITY, now, e);

    /* 5. each department's progress */
    json_t *names = dept_names(d);
    static const char *const pcols[] = {"dept:部门 department",
                                        "carried_in:上月结转:int",
                                        "dispatched:本月派遣:int",
                                        "signed:签收:int",
                                        "closed:办结:int",
                                        "in_progress:月末在办:int",
                                        "overdue:超期:int",
                                        "overdue_now:当前超期:int",
                                        "returned:退单:int",
                                        "reworks:返工:int",
                                        "extensions:延期:int",
                                        "avg_hours:平均时长(h):num",
                                        "p90_hours:90%时长(h):num",
                                        NULL};
    json_t *prog = report_section("progress", "二、各部门办理进度 progress by department", pcols);
    for (int i = 0; i < depts.n; i++) {
        const ind_row *r = &depts.rows[i];
        char nb[24];
        const char *name = dept_name(names, atoll(r->key), nb, sizeof nb);
        json_array_append_new(
            report_rows(prog),
            json_pack("[s, I, I, I, I, I, I, I, I, I, I, o, o]", name,
                      (json_int_t)r->carried_in, (json_int_t)r->v[SC_dispatched],
                      (json_int_t)r->v[SC_signed], (json_int_t)r->v[SC_closed],
                      (json_int_t)(r->carried_in + r->v[SC_inflow] - r->v[SC_outflow]),
                      (json_int_t)(r->overdue + r->v[SC_overdue_done]),
                      (json_int_t)r->overdue_now, (json_int_t)r->v[SC_returned],
                      (json_int_t)r->v[SC_reworks], (json_int_t)r->v[SC_extensions],
                      hours(r->v[SC_handled_minutes], r->v[SC_closed]),
                      r->p90_minutes >= 0 ? json_real(round(r->p90_minutes / 60.0 * 100) / 100)
                                          : json_null()));
    }
    json_array_append_new(sections, prog);

    /* 6. overdue orders now (index on the held orders' deadlines, LIMIT) */
    catalog *cat = st ? catalog_current(st) : NULL;
    static const char *const ocols[] = {"code:工单号 order",  "category:事项 category",
                                        "dept:承办部门 department", "grid:网格 grid",
                                        "deadline:办结时限 deadline:time", "days:超期天数 days:num",
                                        "returns:退单次数:int", NULL};
    json_t *od = report_section("overdue", "三、超期工单 overdue orders (当前)", ocols);
    db_stmt *s = db_query(d,
                          "SELECT o.code, so.category_code, so.dept_id, so.grid_code, "
                          "so.deadline, so.returns FROM stats_orders so JOIN orders o ON o.id = "
                          "so.order_id WHERE so.holding = 1 AND so.deadline > 0 AND "
                          "so.deadline < ? ORDER BY so.deadline LIMIT 200",
                          "I", now);
    while (s && db_step(s) == DB_ROW) {
        char nb[24], dl[32];
        fmt_time(db_col_int64(s, 4), dl);
        json_array_append_new(
            report_rows(od),
            json_pack("[s, s, s, s, s, f, i]", db_col_text(s, 0) ? db_col_text(s, 0) : "",
                      cat_label(cat, db_col_text(s, 1)),
                      dept_name(names, db_col_int64(s, 2), nb, sizeof nb),
                      db_col_text(s, 3) ? db_col_text(s, 3) : "", dl,
                      round((double)(now - db_col_int64(s, 4)) / 86400.0 * 10) / 10,
                      db_col_int(s, 5)));
    }
    db_done(s);
    json_object_set_new(od, "note", json_string("按办结时限排序，最多 200 条 (oldest first, at most 200)"));
    json_array_append_new(sections, od);

    /* 7. repeatedly returned orders (partial index returns >= 2) */
    static const char *const rcols[] = {"code:工单号 order", "category:事项 category",
                                        "returns:退单次数:int", "dept:当前部门 department",
                                        "state:状态 state", NULL};
    json_t *rr = report_section("returned", "四、多次退单工单 repeatedly returned orders", rcols);
    s = db_query(d,
                 "SELECT o.code, so.category_code, so.returns, so.dept_id, so.state FROM "
                 "stats_orders so JOIN orders o ON o.id = so.order_id WHERE so.returns >= 2 "
                 "ORDER BY so.returns DESC, so.order_id DESC LIMIT 100",
                 "");
    while (s && db_step(s) == DB_ROW) {
        char nb[24];
        json_array_append_new(
            report_rows(rr),
            json_pack("[s, s, i, s, s]", db_col_text(s, 0) ? db_col_text(s, 0) : "",
                      cat_label(cat, db_col_text(s, 1)), db_col_int(s, 2),
                      dept_name(names, db_col_int64(s, 3), nb, sizeof nb),
                      db_col_text(s, 4) ? db_col_text(s, 4) : ""));
    }
    db_done(s);
    json_array_append_new(sections, rr);

    /* 8. the month's supervision notices and their answers */
    static const char *const ncols[] = {"code:督办单号 notice", "order:工单号 order",
                                        "dept:部门 department",  "kind:类型 kind",
                                        "reason:事由 reason",    "issued:下发 issued",
                                        "due:回复时限 due",      "state:状态 state",
                                        "answer:回复 answer",    "answered:回复时间 answered",
                                        NULL};
    json_t *ns = report_section("notices", "五、督办单及回复 supervision notices", ncols);
    int from, to;
    month_range(month, &from, &to);
    s = db_query(d,
                 "SELECT code, order_code, dept_id, kind, reason, issued_at, due_at, state, "
                 "answer, answered_at FROM supervision_notices WHERE issued_at >= ? AND "
                 "issued_at < ? ORDER BY issued_at, id LIMIT 500",
                 "II", stats_day_start(from), stats_day_start(stats_day_add(to, 1)));
    while (s && db_step(s) == DB_ROW) {
        char nb[24], t1[32], t2[32], t3[32];
        fmt_time(db_col_int64(s, 5), t1);
        fmt_time(db_col_int64(s, 6), t2);
        fmt_time(db_col_int64(s, 9), t3);
        json_array_append_new(
            report_rows(ns),
            json_pack("[s, s, s, s, s, s, s, s, s, s]", db_col_text(s, 0) ?: "",
                      db_col_text(s, 1) ?: "", dept_name(names, db_col_int64(s, 2), nb, sizeof nb),
                      db_col_text(s, 3) ?: "", db_col_text(s, 4) ?: "", t1, t2,
                      db_col_text(s, 7) ?: "", db_col_text(s, 8) ?: "", t3));
    }
    db_done(s);
    json_array_append_new(sections, ns);

    /* 9. top categories (stats_cat_monthly) with the previous month */
    static const char *const ccols[] = {"category:事项 category", "received:本月受理:int",
                                        "prev:上月受理:int", "change:环比 change",
                                        "closed:办结:int", NULL};
    json_t *tc = report_section("categories", "六、高发问题 top categories", ccols);
    int pfrom, pto;
    month_range(prev, &pfrom, &pto);
    s = db_query(d,
                 "SELECT category_code, SUM(CASE WHEN day >= ? THEN received ELSE 0 END) AS n, "
                 "SUM(CASE WHEN day < ? THEN received ELSE 0 END), SUM(CASE WHEN day >= ? "
                 "THEN closed ELSE 0 END) FROM stats_cat_monthly WHERE day >= ? AND day <= ? "
                 "GROUP BY category_code ORDER BY n DESC, category_code LIMIT 10",
                 "iiiii", from, from, from, pfrom, to);
    while (s && db_step(s) == DB_ROW) {
        json_t *a = json_integer(db_col_int64(s, 1)), *b = json_integer(db_col_int64(s, 2));
        if (db_col_int64(s, 1) == 0) {
            json_decref(a);
            json_decref(b);
            continue;
        }
        json_array_append_new(report_rows(tc),
                              json_pack("[s, O, O, o, I]", cat_label(cat, db_col_text(s, 0)), a,
                                        b, change_text(a, b, 0),
                                        (json_int_t)db_col_int64(s, 3)));
        json_decref(a);
        json_decref(b);
    }
    db_done(s);
    json_array_append_new(sections, tc);

    /* 10. hotspots: grid × category of the month (stats_hot_monthly) */
    static const char *const hcols[] = {"grid:网格 grid", "name:名称 name",
                                        "category:事项 category", "n:问题数 reports:int", NULL};
    json_t *hs = report_section("hotspots", "七、问题热点 hotspots", hcols);
    s = db_query(d,
                 "SELECT h.grid_code, g.name, h.category_code, h.n FROM stats_hot_monthly h "
                 "LEFT JOIN grids g ON g.code = h.grid_code WHERE h.month = ? AND h.n >= 2 "
                 "ORDER BY h.n DESC, h.grid_code LIMIT 20",
                 "i", month);
    while (s && db_step(s) == DB_ROW)
        json_array_append_new(report_rows(hs),
                              json_pack("[s, s, s, I]", db_col_text(s, 0) ?: "",
                                        db_col_text(s, 1) ?: "", cat_label(cat, db_col_text(s, 2)),
                                        (json_int_t)db_col_int64(s, 3)));
    db_done(s);
    json_object_set_new(hs, "note", json_string("同一网格同类问题本月 2 件及以上 (two or more reports of one kind in one grid)"));
    json_array_append_new(sections, hs);

    if (cat)
        catalog_release(cat);
    json_decref(names);
    ind_result_free(&cur);
    ind_result_free(&pm);
    ind_result_free(&ly);
    ind_result_free(&depts);
    *out = doc;
    return WOK;
}
