/*
 * assets — files compiled into the binary by tools/embed.c: the web UI
 * (web/…), the SQL migrations (sql/NNN_name.sql) and default data (data/…).
 */
#ifndef WHISTLE_ASSETS_H
#define WHISTLE_ASSETS_H

#include <stddef.h>

struct asset {
    const char *name;
    const unsigned char *data;
    size_t len;
};

extern const struct asset assets[]; /* ends with a NULL name */

const struct asset *asset_find(const char *name);

#endif
