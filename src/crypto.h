/*
 * crypto — the few primitives whistle needs, all from libsodium:
 * random tokens, keyed and plain hashes, argon2id passwords, and sealed
 * columns (XChaCha20-Poly1305 under a key kept outside the database).
 */
#ifndef WHISTLE_CRYPTO_H
#define WHISTLE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

int crypto_init(void);
/* n random bytes as 2n lowercase hex characters plus NUL into out. */
void crypto_random_hex(char *out, size_t nbytes);
/* A uniformly random integer in [0, bound). */
uint32_t crypto_random_below(uint32_t bound);
/* BLAKE2b-256 of s as 64 hex chars + NUL. For storing session/API tokens. */
void crypto_hash_hex(const char *s, char out[65]);
/* Constant-time string comparison; 1 when equal. */
int crypto_equal(const char *a, const char *b);
/* argon2id: 0 on success. out must hold 128 bytes. */
int crypto_password_hash(const char *password, char out[128]);
/* 1 when password matches the stored hash. */
int crypto_password_verify(const char *stored, const char *password);

#endif
