/*
 * Fuzz target: the catalogue document loader (catalog_parse, what an
 * administrator imports with PUT /api/v1/catalog) and the calendar year
 * loader (calendar_parse_year, PUT /api/v1/calendar/{year}), then a
 * deadline computed with whatever calendar was accepted.
 */
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    catalog *c = NULL;
    werr e = {0};
    if (catalog_parse((const char *)data, size, &c, &e) == WOK) {
        for (int i = 0; i < c->n; i++) {
            catalog_dept_for(&c->cats[i], "511402001001");
            catalog_limit(&c->cats[i], "urgent");
        }
        catalog_free(c);
    }
    struct cal_year y;
    if (calendar_parse_year((const char *)data, size, &y, &e) == WOK) {
        calendar cal;
        calendar_init(&cal);
        calendar_put_year(&cal, &y);
        int64_t t = 1767225600; /* 2026-01-01 */
        int64_t end = calendar_add(&cal, t, 600, 1);
        calendar_minutes_between(&cal, t, end, 1);
    }
    return 0;
}
