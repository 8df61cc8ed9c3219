/*
 * Unit tests for the vault (vault.h): the key file (created 0600 with 32
 * random bytes, reused, refused when malformed), sealing and opening,
 * tamper and cross-kind detection, keyed hashes, masks, ID validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"
#include "vault.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    crypto_init();
    snprintf(dir, sizeof dir, "/tmp/whistle-vault-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/t.db.key", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/bad.key", dir);
    unlink(p);
    rmdir(dir);
    vault_unload();
    return 0;
}

static void test_key_file(void **state)
{
    (void)state;
    char dbp[128], key[128];
    snprintf(dbp, sizeof dbp, "%s/t.db", dir);
    snprintf(key, sizeof key, "%s/t.db.key", dir);
    werr e = {0};
    vault_unload();
    vault_set_key_file(NULL);
    unsetenv("WHISTLE_KEY_FILE");
    assert_int_equal(vault_load(dbp, &e), WOK);
    struct stat sb;
    assert_int_equal(stat(key, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, VAULT_KEY_BYTES);
    unsigned char h1[VAULT_HASH_BYTES], h2[VAULT_HASH_BYTES];
    assert_int_equal(vault_hash(VAULT_ID, "x", 1, h1), 0);
    /* reloading the same file gives the same keys */
    vault_unload();
    assert_int_equal(vault_hash(VAULT_ID, "x", 1, h2), -1);
    assert_int_equal(vault_load(dbp, &e), WOK);
    assert_int_equal(vault_hash(VAULT_ID, "x", 1, h2), 0);
    assert_memory_equal(h1, h2, VAULT_HASH_BYTES);
    /* a key file of the wrong size is refused */
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.key", dir);
    FILE *f = fopen(bad, "w");
    fputs("short", f);
    fclose(f);
    vault_unload();
    vault_set_key_file(bad);
    assert_int_not_equal(vault_load(dbp, &e), WOK);
    assert_string_equal(e.code, "bad_key_file");
    vault_set_key_file(NULL);
}

static void test_seal_open(void **state)
{
    (void)state;
    unsigned char k[VAULT_KEY_BYTES] = {1, 2, 3};
    vault_set_key(k);
    const char *id = "511402199001010021";
    unsigned char a[18 + VAULT_SEAL_OVERHEAD], b[18 + VAULT_SEAL_OVERHEAD];
    int n = vault_seal(VAULT_ID, id, 18, a);
    assert_int_equal(n, 18 + VAULT_SEAL_OVERHEAD);
    assert_int_equal(vault_seal(VAULT_ID, id, 18, b), n);
    assert_memory_not_equal(a, b, (size_t)n); /* fresh nonce each time */
    assert_null(memmem(a, (size_t)n, id, 18)); /* nothing in clear */
    char out[64];
    assert_int_equal(vault_open(VAULT_ID, a, (size_t)n, out, sizeof out), 18);
    assert_string_equal(out, id);
    /* a sealed ID is not a phone; a flipped bit is detected */
    assert_int_equal(vault_open(VAULT_PHONE, a, (size_t)n, out, sizeof out), -1);
    a[30] ^= 1;
    assert_int_equal(vault_open(VAULT_ID, a, (size_t)n, out, sizeof out), -1);
    /* hashes: deterministic, keyed, kind-separated */
    unsigned char h1[VAULT_HASH_BYTES], h2[VAULT_HASH_BYTES];
    vault_hash(VAULT_ID, id, 18, h1);
    vault_hash(VAULT_ID, id, 18, h2);
    assert_memory_equal(h1, h2, VAULT_HASH_BYTES);
    vault_hash(VAULT_PHONE, id, 18, h2);
    assert_memory_not_equal(h1, h2, VAULT_HASH_BYTES);
    unsigned char k2[VAULT_KEY_BYTES] = {9};
    vault_set_key(k2);
    vault_hash(VAULT_ID, id, 18, h2);
    assert_memory_not_equal(h1, h2, VAULT_HASH_BYTES);
    vault_unload();
}

static void test_masks_and_ids(void **state)
{
    (void)state;
    char m[32], n[19];
    vault_mask_id("511402199001010021", m);
    assert_string_equal(m, "5114**********0021");
    vault_mask_phone("13812345678", m);
    assert_string_equal(m, "138****5678");
    vault_mask_phone("12345", m);
    assert_string_equal(m, "***45");
    assert_true(vault_id_valid("511402199001010021", n));
    assert_true(vault_id_valid("11010519491231002x", n));
    assert_string_equal(n, "11010519491231002X");
    assert_false(vault_id_valid("511402199001010022", n)); /* check digit */
    assert_false(vault_id_valid("511402199002300021", n)); /* 30 February */
    assert_false(vault_id_valid("51140219900101002", n));  /* length */
    char p[24];
    assert_true(vault_phone_norm("138 1234 5678", p, sizeof p));
    assert_string_equal(p, "13812345678");
    assert_true(vault_phone_norm("028-88880000", p, sizeof p));
    assert_false(vault_phone_norm("1.38E+10", p, sizeof p));
    assert_false(vault_phone_norm("123", p, sizeof p));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_file),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_masks_and_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
