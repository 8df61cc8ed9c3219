/*
 * attachment — photos for work orders (问题照片 / 处置照片): JPEG, PNG or
 * WebP only, recognised by their magic bytes (never by name), at most
 * ATTACH_MAX_BYTES, stored content-addressed (SHA-256) inside the database
 * (table attachments) so that a backup holds everything. The same photo
 * uploaded twice is stored once. Who may read one is decided by the orders
 * that reference it (order_attachment_visible).
 */
#ifndef WHISTLE_ATTACHMENT_H
#define WHISTLE_ATTACHMENT_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "store.h"

#define ATTACH_MAX_BYTES (5u << 20)

/* "image/jpeg", "image/png", "image/webp", or NULL when not a photo. */
const char *attachment_sniff(const void *data, size_t len);

/* Stores the bytes (hashing happens before the write); *id is the
 * attachment (existing when the same bytes were stored before). */
int attachment_store(store *st, const audit_actor *a, int64_t user_id, const void *data,
                     size_t len, int64_t *id, char sha_hex[65], const char **mime, werr *e);
/* Reads one attachment: *data malloc'd (free it), *mime static. */
int attachment_read(db *d, int64_t id, void **data, size_t *len, const char **mime,
                    char sha_hex[65], werr *e);
/* 1 when every id exists. */
int attachment_all_exist(db *d, const int64_t *ids, int n);

#endif
