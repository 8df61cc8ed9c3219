/*
 * attachment.c — photos, content-addressed inside the database (see
 * attachment.h). Hashing happens before the write; the write is one INSERT
 * (or nothing, when the same bytes were stored before).
 */
#include "attachment.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

const char *attachment_sniff(const void *data, size_t len)
{
    const unsigned char *p = data;
    if (len >= 4 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "image/jpeg";
    if (len >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "image/png";
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "image/webp";
    return NULL;
}

struct put_ctx {
    const audit_actor *a;
    int64_t user_id;
    const void *data;
    size_t len;
    const char *sha, *mime;
    int64_t id;
    werr *e;
};

static int find_sha(db *d, const char *sha, int64_t *id)
{
    db_stmt *s = db_query(d, "SELECT id FROM attachments WHERE sha256 = ?", "t", sha);
    int found = s && db_step(s) == DB_ROW;
    if (found)
        *id = db_col_int64(s, 0);
    db_done(s);
    return found;
}

static int put_tx(db *d, void *arg)
{
    struct put_ctx *c = arg;
    if (find_sha(d, c->sha, &c->id))
        return WOK;
    int rc = db_exec(d, "INSERT INTO attachments (sha256, mime, size, data, created_at, "
                        "created_by) VALUES (?, ?, ?, ?, ?, nullif(?, 0))",
                     "ttIbII", c->sha, c->mime, (int64_t)c->len, c->data, (int)c->len,
                     clock_now(), c->user_id);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot store the photo");
    c->id = db_last_id(d);
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:s, s:s, s:I}", "sha256", c->sha, "mime", c->mime, "size",
                               (json_int_t)c->len);
    rc = audit_record(d, c->a, "attachment.upload", "attachment", idbuf, detail);
    json_decref(detail);
    return rc;
}

int attachment_store(store *st, const audit_actor *a, int64_t user_id, const void *data,
                     size_t len, int64_t *id, char sha_hex[65], const char **mime, werr *e)
{
    if (!data || len == 0)
        return werr_set(e, W_EINVALID, "empty_upload", "the body is empty: send the photo bytes");
    if (len > ATTACH_MAX_BYTES)
        return werr_set(e, W_ETOOLARGE, "photo_too_large", "照片不能超过 5 MB (photos are at most "
                                                           "5 MB)");
    const char *m = attachment_sniff(data, len);
    if (!m)
        return werr_set(e, W_EMEDIA, "not_a_photo",
                        "只接受 JPEG、PNG 或 WebP 照片 (only JPEG, PNG or WebP photos, recognised "
                        "by their content)");
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(sha_hex, 65, h, sizeof h);
    struct put_ctx c = {a, user_id, data, len, sha_hex, m, 0, e};
    /* already stored? then no write at all */
    db *d = store_reader(st);
    int found = d && find_sha(d, sha_hex, &c.id);
    store_release(st, d);
    if (!found) {
        int rc = store_write(st, put_tx, &c);
        if (rc != WOK) {
            if (e->rc != rc)
                werr_set(e, rc, "database_error", "cannot store the photo");
            return rc;
        }
    }
    *id = c.id;
    if (mime)
        *mime = m;
    return WOK;
}

int attachment_read(db *d, int64_t id, void **data, size_t *len, const char **mime,
                    char sha_hex[65], werr *e)
{
    db_stmt *s = db_query(d, "SELECT data, mime, sha256 FROM attachments WHERE id = ?", "I", id);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read the photo");
    if (db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(e, W_ENOTFOUND, "not_found", "no attachment %lld", (long long)id);
    }
    int n = 0;
    const void *b = db_col_blob(s, 0, &n);
    const char *m = attachment_sniff(b, (size_t)n);
    *mime = m ? m : "application/octet-stream";
    snprintf(sha_hex, 65, "%s", db_col_text(s, 2) ? db_col_text(s, 2) : "");
    *data = malloc(n > 0 ? (size_t)n : 1);
    if (!*data) {
        db_done(s);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    if (n > 0)
        memcpy(*data, b, (size_t)n);
    *len = (size_t)n;
    db_done(s);
    return WOK;
}

int attachment_all_exist(db *d, const int64_t *ids, int n)
{
    for (int i = 0; i < n; i++) {
        db_stmt *s = db_query(d, "SELECT 1 FROM attachments WHERE id = ?", "I", ids[i]);
        int found = s && db_step(s) == DB_ROW;
        db_done(s);
        if (!found)
            return 0;
    }
    return 1;
}
