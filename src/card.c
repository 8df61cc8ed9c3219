/*
 * card.c — contact cards (网格服务联系卡) with QR codes (see card.h).
 * The page links its stylesheet (card_css, served at /api/v1/card.css)
 * instead of inlining it: the HTML pages' Content-Security-Policy allows
 * only same-origin styles.
 */
#include "card.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"
#include "validate.h"

const char card_css[] =
    "@page{size:A4;margin:0}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font-family:'Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',"
    "sans-serif;color:#111}\n"
    ".sheet{width:210mm;height:297mm;display:grid;grid-template-columns:105mm 105mm;"
    "grid-template-rows:148.5mm 148.5mm;page-break-after:always;break-after:page}\n"
    ".card{border:0.3mm dashed #999;padding:7mm 7mm 5mm;display:flex;flex-direction:column;"
    "overflow:hidden}\n"
    ".card h1{margin:0;font-size:6mm;color:#b71c1c;text-align:center;letter-spacing:1mm}\n"
    ".card .en{text-align:center;font-size:2.6mm;color:#555;margin-bottom:2mm}\n"
    ".card h2{margin:1mm 0;font-size:4.6mm;text-align:center}\n"
    ".card .path{font-size:3mm;color:#444;text-align:center;margin-bottom:2mm}\n"
    ".card table{width:100%;border-collapse:collapse;font-size:3.2mm}\n"
    ".card td{border-bottom:0.2mm solid #ddd;padding:0.8mm 1mm}\n"
    ".card td.duty{color:#b71c1c;white-space:nowrap}\n"
    ".card td.phone{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\n"
    ".card a{color:inherit;text-decoration:none}\n"
    ".card .dept{font-size:3mm;margin-top:1.5mm}\n"
    ".card .qr{margin-top:auto;display:flex;align-items:center;gap:3mm}\n"
    ".card .qr svg{flex:none}\n"
    ".card .qr p{margin:0;font-size:3mm;line-height:1.5}\n"
    ".card .code{font-family:monospace;font-size:2.8mm;color:#666}\n"
    "@media screen{body{background:#eee}.sheet{background:#fff;margin:0 auto 8mm}}\n";

int card_valid_base(const char *b)
{
    if (!b || (strncmp(b, "http://", 7) != 0 && strncmp(b, "https://", 8) != 0))
        return 0;
    size_t n = strlen(b);
    if (n > 200 || n < 9)
        return 0;
    for (const char *p = b; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\'' || *p == '<' || *p == '>' ||
            *p == '\\' || *p == '`' || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

void card_report_url(const char *base, const char *code, char *out, size_t n)
{
    size_t bl = strlen(base);
    while (bl && base[bl - 1] == '/')
        bl--;
    snprintf(out, n, "%.*s/m.html?grid=%s", (int)bl, base, code);
}

int card_qr_svg(const char *text, int module, wbuf *out, werr *e)
{
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return werr_set(e, W_EINTERNAL, "qr_failed", "cannot encode the QR code");
    int w = qr->width, q = 4, size = (w + 2 * q) * module;
    wbuf_printf(out,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"36mm\" "
                "height=\"36mm\" shape-rendering=\"crispEdges\" role=\"img\" "
                "aria-label=\"QR\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                "<path fill=\"#000\" d=\"",
                size, size, size, size);
    for (int y = 0; y < w; y++) {
        int x = 0;
        while (x < w) {
            if (!(qr->data[y * w + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < w && (qr->data[y * w + x + run] & 1))
                run++;
            wbuf_printf(out, "M%d %dh%dv%dh-%dz", (x + q) * module, (y + q) * module,
                        run * module, module, run * module);
            x += run;
        }
    }
    wbuf_puts(out, "\"/></svg>");
    QRcode_free(qr);
    return out->oom ? werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory") : WOK;
}

/* The 包保单位 of a grid: its own, else the nearest ancestor's. */
static void dept_of(db *d, json_t *path, wbuf *out)
{
    for (int k = (int)json_array_size(path) - 1; k >= 0; k--) {
        const char *c = json_string_value(json_object_get(json_array_get(path, (size_t)k), "code"));
        db_stmt *s = db_query(d,
                              "SELECT dp.name, dp.contact, dp.phone FROM grids g "
                              "JOIN departments dp ON dp.id = g.dept_id WHERE g.code = ?",
                              "t", c);
        if (s && db_step(s) == DB_ROW) {
            wbuf_puts(out, "<div class=\"dept\">包保单位 Responsible unit: <b>");
            wbuf_html(out, db_col_text(s, 0));
            wbuf_puts(out, "</b>");
            if (db_col_text(s, 1)) {
                wbuf_puts(out, " · ");
                wbuf_html(out, db_col_text(s, 1));
            }
            if (db_col_text(s, 2)) {
                wbuf_puts(out, " ");
                wbuf_html(out, db_col_text(s, 2));
            }
            wbuf_puts(out, "</div>");
            db_done(s);
            return;
        }
        db_done(s);
    }
}

static int one_card(db *d, const char *code, const char *base, wbuf *out, werr *e)
{
    json_t *path = grid_path(d, code);
    size_t n = json_array_size(path);
    if (n == 0) {
        json_decref(path);
        return werr_set(e, W_ENOTFOUND, "not_found", "no grid %s", code);
    }
    json_t *self = json_array_get(path, n - 1);
    wbuf_puts(out, "<section class=\"card\"><h1>网格服务联系卡</h1>"
                   "<div class=\"en\">Grid service contact card</div><h2>");
    wbuf_html(out, json_string_value(json_object_get(self, "name")));
    wbuf_puts(out, "</h2><div class=\"path\">");
    for (size_t k = 0; k + 1 < n; k++) {
        if (k)
            wbuf_puts(out, " · ");
        wbuf_html(out, json_string_value(json_object_get(json_array_get(path, k), "name")));
    }
    wbuf_puts(out, "</div><table>");
    /* the people in charge: from the community down to this grid */
    int rows = 0;
    for (size_t k = n > 2 ? 2 : 1; k < n && rows < 9; k++) {
        const char *c = json_string_value(json_object_get(json_array_get(path, k), "code"));
        int64_t id;
        if (grid_id_by_code(d, c, &id) != WOK)
            continue;
        json_t *duties = grid_duties_json(d, id);
        size_t i;
        json_t *x;
        json_array_foreach(duties, i, x)
        {
            if (rows >= 9)
                break;
            wbuf_puts(out, "<tr><td class=\"duty\">");
            wbuf_html(out, json_string_value(json_object_get(x, "duty_label")));
            wbuf_puts(out, "</td><td>");
            wbuf_html(out, json_string_value(json_object_get(x, "name")));
            wbuf_puts(out, "</td><td class=\"phone\">");
            const char *ph = json_string_value(json_object_get(x, "phone"));
            if (ph) {
                wbuf_puts(out, "<a href=\"tel:");
                wbuf_html(out, ph);
                wbuf_puts(out, "\">");
                wbuf_html(out, ph);
                wbuf_puts(out, "</a>");
            }
            wbuf_puts(out, "</td></tr>");
            rows++;
        }
        json_decref(duties);
    }
    if (!rows)
        wbuf_puts(out, "<tr><td colspan=\"3\">（尚未指定 not yet assigned）</td></tr>");
    wbuf_puts(out, "</table>");
    dept_of(d, path, out);
    json_decref(path);
    char url[400];
    card_report_url(base, code, url, sizeof url);
    wbuf_puts(out, "<div class=\"qr\">");
    int rc = card_qr_svg(url, 4, out, e);
    wbuf_puts(out, "<p>扫码反映问题、找网格员<br>Scan to report a problem to your grid<br>"
                   "<span class=\"code\">");
    wbuf_html(out, code);
    wbuf_puts(out, "</span></p></div></section>");
    return rc;
}

int card_render(db *d, const char *code, const char *base, int leaves, int copies, wbuf *out,
                werr *e)
{
    int64_t id;
    if (!valid_code(code) || grid_id_by_code(d, code, &id) != WOK)
        return werr_set(e, W_ENOTFOUND, "not_found", "no grid %s", code);
    if (!card_valid_base(base))
        return werr_set(e, W_EINVALID, "invalid_query", "base: not an http(s) URL");
    /* the codes to print, collected before rendering */
    char **codes = NULL;
    int n = 0, cap = 0;
    if (leaves) {
        char lo[64], hi[66];
        snprintf(lo, sizeof lo, "%s", code);
        snprintf(hi, sizeof hi, "%s:", code);
        db_stmt *s = db_query(d,
                              "SELECT g.code FROM grids g WHERE g.code >= ? AND g.code < ? AND "
                              "g.status = 'active' AND NOT EXISTS (SELECT 1 FROM grids c WHERE "
                              "c.parent_id = g.id AND c.status = 'active') ORDER BY g.code "
                              "LIMIT 1001", "tt", lo, hi);
        while (s && db_step(s) == DB_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                char **x = realloc(codes, sizeof *x * (size_t)cap);
                if (!x)
                    break;
                codes = x;
            }
            codes[n++] = strdup(db_col_text(s, 0));
        }
        db_done(s);
    }
    if (n == 0) {
        codes = malloc(sizeof *codes);
        if (codes)
            codes[n++] = strdup(code);
    }
    int rc = WOK;
    if ((long)n * copies > 1000)
        rc = werr_set(e, W_ETOOLARGE, "too_many_cards",
                      "%d cards: print a smaller part of the tree (at most 1000 at once)",
                      n * copies);
    if (rc == WOK) {
        wbuf_puts(out, "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                       "<title>网格服务联系卡 ");
        wbuf_html(out, code);
        wbuf_puts(out, "</title><link rel=\"stylesheet\" href=\"/api/v1/card.css\"></head><body>");
        int k = 0;
        for (int i = 0; i < n && rc == WOK; i++)
            for (int c = 0; c < copies && rc == WOK; c++, k++) {
                if (k % 4 == 0)
                    wbuf_puts(out, k ? "</div><div class=\"sheet\">" : "<div class=\"sheet\">");
                rc = one_card(d, codes[i], base, out, e);
            }
        wbuf_puts(out, "</div></body></html>\n");
    }
    for (int i = 0; i < n; i++)
        free(codes[i]);
    free(codes);
    if (rc == WOK && out->oom)
        rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    return rc;
}
