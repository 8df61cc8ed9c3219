#include "vault.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#include <stdatomic.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Nonces: a random 16-byte prefix drawn once per process, then a counter,
 * so that sealing 100,000 values does not cost 100,000 getrandom calls.
 * XChaCha20's 24-byte nonce leaves room for both. */
static unsigned char nonce_prefix[16];
static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t nonce_counter;

static void nonce_init(void)
{
    randombytes_buf(nonce_prefix, sizeof nonce_prefix);
}
static int loaded;
static unsigned char seal_key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
static unsigned char hash_key[crypto_generichash_KEYBYTES];
static char key_file_flag[4096];
static char key_path[4096];

static void derive(const unsigned char master[VAULT_KEY_BYTES])
{
    /* Subkeys, so that the sealing key and the hashing key are independent. */
    crypto_kdf_derive_from_key(seal_key, sizeof seal_key, 1, "whistlev", master);
    crypto_kdf_derive_from_key(hash_key, sizeof hash_key, 2, "whistlev", master);
    loaded = 1;
}

void vault_set_key_file(const char *path)
{
    pthread_mutex_lock(&mu);
    snprintf(key_file_flag, sizeof key_file_flag, "%s", path ? path : "");
    pthread_mutex_unlock(&mu);
}

void vault_set_key(const unsigned char key[VAULT_KEY_BYTES])
{
    pthread_mutex_lock(&mu);
    derive(key);
    snprintf(key_path, sizeof key_path, "(set directly)");
    pthread_mutex_unlock(&mu);
}

void vault_unload(void)
{
    pthread_mutex_lock(&mu);
    sodium_memzero(seal_key, sizeof seal_key);
    sodium_memzero(hash_key, sizeof hash_key);
    loaded = 0;
    key_path[0] = '\0';
    pthread_mutex_unlock(&mu);
}

int vault_ready(void)
{
    return loaded;
}

const char *vault_key_path(void)
{
    return key_path;
}

static int read_key(const char *path, unsigned char key[VAULT_KEY_BYTES], werr *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
        log_warn(NULL, "vault: key file %s is readable by others (chmod 600 it)", path);
    ssize_t n = read(fd, key, VAULT_KEY_BYTES);
    unsigned char extra;
    ssize_t more = read(fd, &extra, 1);
    close(fd);
    if (n != VAULT_KEY_BYTES || more != 0) {
        werr_set(e, W_EINTERNAL, "bad_key_file", "key file %s must hold exactly %d bytes", path,
                 VAULT_KEY_BYTES);
        return -2;
    }
    return 0;
}

int vault_load(const char *db_path, werr *e)
{
    pthread_mutex_lock(&mu);
    if (loaded) {
        pthread_mutex_unlock(&mu);
        return WOK;
    }
    const char *env = getenv("WHISTLE_KEY_FILE");
    if (key_file_flag[0])
        snprintf(key_path, sizeof key_path, "%s", key_file_flag);
    else if (env && *env)
        snprintf(key_path, sizeof key_path, "%s", env);
    else
        snprintf(key_path, sizeof key_path, "%s.key", db_path ? db_path : "whistle.db");
    unsigned char key[VAULT_KEY_BYTES];
    int rc = read_key(key_path, key, e);
    if (rc == -1 && errno == ENOENT) {
        /* First open: a fresh random key, readable by the owner only. */
        int fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            randombytes_buf(key, sizeof key);
            ssize_t n = write(fd, key, sizeof key);
            int ok = n == (ssize_t)sizeof key && fsync(fd) == 0;
            close(fd);
            if (!ok) {
                unlink(key_path);
                rc = -1;
            } else {
                log_info(NULL, "vault: created key file %s (back it up with the database)",
                         key_path);
                rc = 0;
            }
        } else if (errno == EEXIST) {
            rc = read_key(key_path, key, e); /* another process made it first */
        }
    }
    if (rc == 0)
        derive(key);
    sodium_memzero(key, sizeof key);
    pthread_mutex_unlock(&mu);
    if (rc == -1)
        return werr_set(e, W_EINTERNAL, "no_key_file", "cannot read or create key file %s: %s",
                        key_path, strerror(errno));
    return rc == 0 ? WOK : W_EINTERNAL;
}

int vault_ensure(store *st, werr *e)
{
    if (loaded)
        return WOK;
    return vault_load(st ? store_path(st) : NULL, e);
}

static void ad_for(int kind, unsigned char ad[8])
{
    memcpy(ad, "whistle", 7);
    ad[7] = (unsigned char)kind;
}

int vault_seal(int kind, const char *p, size_t len, unsigned char *out)
{
    if (!loaded)
        return -1;
    unsigned char ad[8];
    ad_for(kind, ad);
    unsigned char *nonce = out;
    pthread_once(&nonce_once, nonce_init);
    uint64_t n = atomic_fetch_add(&nonce_counter, 1);
    memcpy(nonce, nonce_prefix, sizeof nonce_prefix);
    memcpy(nonce + sizeof nonce_prefix, &n, sizeof n);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                               &clen, (const unsigned char *)p, len, ad,
                                               sizeof ad, NULL, nonce, seal_key);
    return (int)(clen + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
}

int vault_open(int kind, const unsigned char *sealed, size_t len, char *out, size_t cap)
{
    if (!loaded || len < VAULT_SEAL_OVERHEAD || len - VAULT_SEAL_OVERHEAD + 1 > cap)
        return -1;
    unsigned char ad[8];
    ad_for(kind, ad);
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            (unsigned char *)out, &mlen, NULL,
            sealed + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
            len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, sizeof ad, sealed,
            seal_key) != 0)
        return -1;
    out[mlen] = '\0';
    return (int)mlen;
}

int vault_hash(int kind, const char *p, size_t len, unsigned char out[VAULT_HASH_BYTES])
{
    if (!loaded)
        return -1;
    crypto_generichash_state s;
    unsigned char k = (unsigned char)kind;
    crypto_generichash_init(&s, hash_key, sizeof hash_key, VAULT_HASH_BYTES);
    crypto_generichash_update(&s, &k, 1);
    crypto_generichash_update(&s, (const unsigned char *)p, len);
    crypto_generichash_final(&s, out, VAULT_HASH_BYTES);
    return 0;
}

static void mask_keep(const char *v, char *out, size_t head, size_t tail)
{
    size_t n = strlen(v);
    if (n <= head + tail) { /* too short to show anything safely */
        for (size_t i = 0; i < n; i++)
            out[i] = i + 2 >= n ? v[i] : '*';
        out[n] = '\0';
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (i < head || i >= n - tail) ? v[i] : '*';
    out[n] = '\0';
}

void vault_mask_id(const char *v, char *out)
{
    mask_keep(v, out, 4, 4);
}

void vault_mask_phone(const char *v, char *out)
{
    mask_keep(v, out, 3, 4);
}

int vault_id_valid(const char *v, char out[19])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[] = "10X98765432";
    if (!v || strlen(v) != 18)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        sum += (v[i] - '0') * w[i];
        out[i] = v[i];
    }
    char c = v[17] == 'x' ? 'X' : v[17];
    out[17] = c;
    out[18] = '\0';
    if (c != check[sum % 11])
        return 0;
    /* the birth date inside must be a date */
    int y = (v[6] - '0') * 1000 + (v[7] - '0') * 100 + (v[8] - '0') * 10 + (v[9] - '0');
    int m = (v[10] - '0') * 10 + (v[11] - '0');
    int d = (v[12] - '0') * 10 + (v[13] - '0');
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1880 || y > 2100 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    return 1;
}

int vault_phone_norm(const char *v, char *out, size_t cap)
{
    size_t n = 0;
    int digits = 0;
    for (const char *p = v; p && *p; p++) {
        char c = *p;
        if (c == ' ' || c == '\t')
            continue;
        if (!((c >= '0' && c <= '9') || c == '+' || c == '-'))
            return 0;
        if (n + 1 >= cap)
            return 0;
        digits += c >= '0' && c <= '9';
        out[n++] = c;
    }
    out[n] = '\0';
    return n >= 7 && n <= 20 && digits >= 7;
}
