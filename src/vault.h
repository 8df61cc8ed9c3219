/*
 * vault — privacy of personal identifiers (ID numbers 公民身份号码, phones).
 *
 * Values are sealed with XChaCha20-Poly1305 (libsodium) under a 32-byte key
 * kept OUTSIDE the database, in a key file: --key-file / WHISTLE_KEY_FILE, or
 * by default "<database path>.key" next to the database, created with mode
 * 0600 and 32 random bytes on first open. A copy of the .db file alone
 * therefore reveals no ID number or phone. Two subkeys are derived from the
 * file's key (crypto_kdf): one seals, one computes the keyed hash
 * (BLAKE2b) stored beside each sealed value for exact-match lookup.
 *
 * The key is process-wide: the server and the CLI load it once at start
 * (vault_load), or the first call that needs it loads it from the default
 * place for the store (vault_ensure). Back the key file up with the
 * database: without it the sealed columns cannot be read.
 */
#ifndef WHISTLE_VAULT_H
#define WHISTLE_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

#define VAULT_KEY_BYTES 32
#define VAULT_HASH_BYTES 16
#define VAULT_SEAL_OVERHEAD 40 /* 24-byte nonce + 16-byte tag */

/* What a value is; bound into the ciphertext and the hash so that a sealed
 * phone cannot be passed off as an ID number. */
enum vault_kind { VAULT_ID = 1, VAULT_PHONE = 2 };

/* Sets the key file to use for the next load (NULL: environment or default).
 * Call before vault_load/vault_ensure, e.g. from a --key-file flag. */
void vault_set_key_file(const char *path);
/* Loads (creating if missing) the key for the database at db_path.
 * Idempotent: a second call with the key already loaded returns WOK. */
int vault_load(const char *db_path, werr *e);
/* vault_load for store_path(st) unless a key is already loaded. */
int vault_ensure(store *st, werr *e);
/* Uses this key directly (tests). */
void vault_set_key(const unsigned char key[VAULT_KEY_BYTES]);
/* Forgets the key (tests). */
void vault_unload(void);
int vault_ready(void);
/* The key file that was loaded (or would be), for messages. */
const char *vault_key_path(void);

/* Seals len bytes of p into out (len + VAULT_SEAL_OVERHEAD bytes).
 * Returns the sealed length, or -1 without a key. */
int vault_seal(int kind, const char *p, size_t len, unsigned char *out);
/* Opens a sealed value into out (NUL-terminated; cap bytes including the
 * NUL). Returns the plain length, or -1 (no key, tampered, too long). */
int vault_open(int kind, const unsigned char *sealed, size_t len, char *out, size_t cap);
/* Keyed hash of a normalised value for exact lookup. 0, or -1 without a key. */
int vault_hash(int kind, const char *p, size_t len, unsigned char out[VAULT_HASH_BYTES]);

/* Masks for display: "5114**********1234", "138****5678". out must hold
 * strlen(v)+1 bytes (masks keep the length). */
void vault_mask_id(const char *v, char *out);
void vault_mask_phone(const char *v, char *out);

/* Chinese resident ID number (18 characters, GB 11643 check digit,
 * upper-case X). Returns 1 when valid; normalises lower-case x into out[19]. */
int vault_id_valid(const char *v, char out[19]);
/* Normalises a phone: keeps digits, '+' and '-' (drops spaces); returns
 * 1 when the result is a plausible phone (7–20 characters, ≥7 digits). */
int vault_phone_norm(const char *v, char *out, size_t cap);

#endif
