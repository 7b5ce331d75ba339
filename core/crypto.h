/*
** crypto.h: the primitives of truthound's signing, on OpenSSL 3's EVP
** interfaces: digests, HMAC, constant-time comparison, random bytes, the
** text encodings signatures travel in (hex, base64), and the exclusive
** creation of key files. Keys are in crypto_key.h, certificates and chains
** in crypto_x509.h. See docs/crypto.md.
**
** Every function is safe to call from several threads at once (the tree
** digest hashes files on the libuv thread pool). Errors are negative codes;
** each failing call leaves OpenSSL's error queue empty, so that an old
** error never explains a later failure.
*/
#ifndef TP_CRYPTO_H
#define TP_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Error codes (negative, libuv style); tp_crypto_strerror names them. */
#define TP_CRYPTO_EINVAL     (-1)   /* an argument out of range */
#define TP_CRYPTO_ENOMEM     (-2)   /* out of memory */
#define TP_CRYPTO_EFORMAT    (-3)   /* malformed input: hex, base64, PEM, DER */
#define TP_CRYPTO_EKEYTYPE   (-4)   /* a key type other than Ed25519 or RSA */
#define TP_CRYPTO_EKEYSIZE   (-5)   /* an RSA key below 2048 (or above 16384) bits */
#define TP_CRYPTO_EWRONGALG  (-6)   /* a signature algorithm that does not fit the key */
#define TP_CRYPTO_ENOPRIVATE (-7)   /* signing with a public key */
#define TP_CRYPTO_ESHORTKEY  (-8)   /* an HMAC key below the minimum length */
#define TP_CRYPTO_EENCRYPTED (-9)   /* a passphrase-protected private key */
#define TP_CRYPTO_EOPENSSL   (-10)  /* OpenSSL failed where it should not */
#define TP_CRYPTO_EIO        (-11)  /* a system call failed: see errno */

const char *tp_crypto_strerror(int code);

/* Digest algorithms (also HMAC's hash). */
#define TP_CRYPTO_SHA256 1
#define TP_CRYPTO_SHA512 2
#define TP_CRYPTO_MAX_DIGEST 64

/* "sha256" / "sha512" (any case) -> TP_CRYPTO_SHA*, else TP_CRYPTO_EINVAL. */
int tp_crypto_digest_by_name(const char *name);
/* Output size in bytes (32 or 64), 0 for an unknown algorithm. */
size_t tp_crypto_digest_size(int alg);

/* One-shot digest of len bytes into out (tp_crypto_digest_size bytes).
** Returns the size written, or a negative code. */
int tp_crypto_digest(int alg, const void *data, size_t len, unsigned char *out);

/* HMAC keys shorter than this are refused unless the caller lowers the
** minimum explicitly (standard test vectors use 4-byte keys). */
#define TP_CRYPTO_HMAC_MIN_KEY 32

/* HMAC of data under key into out (tp_crypto_digest_size bytes). Keys
** shorter than min_key bytes give TP_CRYPTO_ESHORTKEY. Returns the size
** written or a negative code. */
int tp_crypto_hmac(int alg, const void *key, size_t keylen, size_t min_key,
                   const void *data, size_t len, unsigned char *out);

/* Check an HMAC tag: 1 when tag is the full HMAC of data, 0 when it is not
** (a truncated tag is never accepted), TP_CRYPTO_ESHORTKEY for a key below
** TP_CRYPTO_HMAC_MIN_KEY, another negative code on failure. Constant time
** in the tag's contents. */
int tp_crypto_hmac_verify(int alg, const void *key, size_t keylen,
                          const void *data, size_t len,
                          const void *tag, size_t taglen);

/* 1 when a and b hold the same bytes. The time taken depends on the
** lengths only, never on the contents; different lengths are unequal. */
int tp_crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

/* n bytes from OpenSSL's DRBG (seeded by the kernel). 0 or a negative code. */
int tp_crypto_random(void *out, size_t n);

/* Lowercase hex: 2n characters into out (not terminated). */
void tp_crypto_hex_encode(const void *in, size_t n, char *out);
/* Strict hex decoding (even length, digits in either case, nothing else):
** n/2 bytes into out. 0, or TP_CRYPTO_EFORMAT with *pos the 0-based offset
** of the offending character (n itself for an odd length). */
int tp_crypto_hex_decode(const char *in, size_t n, unsigned char *out, size_t *pos);

/* Base64 of RFC 4648 section 4 (alphabet A-Z a-z 0-9 + /, '=' padding, no
** line breaks). Encoding writes tp_crypto_base64_size(n) characters. */
size_t tp_crypto_base64_size(size_t n);
void tp_crypto_base64_encode(const void *in, size_t n, char *out);
/* Strict decoding: length a multiple of 4, padding only at the end, no
** blanks or line breaks, and the unused bits of the last character zero
** (so every byte string has exactly one accepted encoding). out needs
** n / 4 * 3 bytes; *outlen gets the decoded length. 0, or
** TP_CRYPTO_EFORMAT with *pos the 0-based offset of the offending
** character (n for a bad length). */
int tp_crypto_base64_decode(const char *in, size_t n, unsigned char *out,
                            size_t *outlen, size_t *pos);

/* Create a new file holding data, for key material: it must not exist yet
** (O_EXCL; a symbolic link in its place is not followed), it is created
** with mode (umask applies) and synced to disk before this returns. On any
** failure the file is removed. 0, or TP_CRYPTO_EIO with errno set. */
int tp_crypto_create_file(const char *path, const void *data, size_t len,
                          unsigned mode);

/* Clear the memory of a secret, in a way the compiler keeps. */
void tp_crypto_cleanse(void *p, size_t n);

/* Empty OpenSSL's error queue (after a failure we reported by code). */
void tp_crypto_clear_errors(void);

#endif
