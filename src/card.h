/*
 * card — contact cards (网格服务联系卡, SPEC §2): a printable HTML page of
 * A6 cards, four to an A4 sheet, each with the grid's name and place, the
 * people in charge (name, duty, phone), the 包保单位, and a QR code that
 * opens the resident report page pre-filled with the grid:
 *   <base>/m.html?grid=<code>
 * The QR code is made with libqrencode and drawn as inline SVG, so the
 * page prints anywhere without images or scripts.
 */
#ifndef WHISTLE_CARD_H
#define WHISTLE_CARD_H

#include <stddef.h>

#include "err.h"
#include "store.h"
#include "wbuf.h"

/* The cards' stylesheet, served at GET /api/v1/card.css. */
extern const char card_css[];

/* 1 when base is a usable http(s) URL to put into a QR code and HTML. */
int card_valid_base(const char *base);
/* <base>/m.html?grid=<code> into out. */
void card_report_url(const char *base, const char *code, char *out, size_t n);
/* The QR code of text as an SVG element (module size in user units; the
 * quiet zone of 4 modules is included). */
int card_qr_svg(const char *text, int module, wbuf *out, werr *e);
/* The card page for grid `code`: one card per active leaf grid below it
 * (leaves = 1; the grid itself when it has no children) or one for the
 * grid itself (leaves = 0), each `copies` times; at most 1000 cards. */
int card_render(db *d, const char *code, const char *base, int leaves, int copies, wbuf *out,
                werr *e);

#endif
