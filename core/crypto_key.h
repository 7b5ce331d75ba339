/*
** crypto_key.h: signing keys (Ed25519 and RSA) on OpenSSL 3's EVP_PKEY:
** generation, PEM import and export, key ids, signatures and their
** verification. See docs/crypto.md.
**
** What is refused, whatever the caller asks: key types other than Ed25519
** and RSA (EC, DSA, RSA-PSS-restricted keys...), RSA moduli below 2048 or
** above 16384 bits, passphrase-protected private keys (never a prompt), and
** a signature algorithm that does not fit the key. Private key material
** lives inside OpenSSL, which clears it when the key is freed.
*/
#ifndef TP_CRYPTO_KEY_H
#define TP_CRYPTO_KEY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "crypto.h"

/* Key types. */
#define TP_CRYPTO_KEY_ED25519 1
#define TP_CRYPTO_KEY_RSA     2

#define TP_CRYPTO_RSA_MIN_BITS     2048
#define TP_CRYPTO_RSA_MAX_BITS     16384
#define TP_CRYPTO_RSA_DEFAULT_BITS 3072

/* Signature algorithms. RSA_PSS_SHA256: MGF1 with SHA-256, salt 32 bytes
** (exactly, when verifying). */
#define TP_CRYPTO_SIG_ED25519        1
#define TP_CRYPTO_SIG_RSA_SHA256     2   /* RSASSA-PKCS1-v1_5 */
#define TP_CRYPTO_SIG_RSA_PSS_SHA256 3
#define TP_CRYPTO_PSS_SALT 32

/* The largest signature: an RSA modulus of TP_CRYPTO_RSA_MAX_BITS. */
#define TP_CRYPTO_MAX_SIG (TP_CRYPTO_RSA_MAX_BITS / 8)

typedef struct tp_crypto_key {
  EVP_PKEY *pkey;     /* NULL once freed */
  int type;           /* TP_CRYPTO_KEY_* */
  int bits;           /* 256 for Ed25519, the modulus size for RSA */
  int is_private;
  /* Verification contexts set up once per algorithm and copied for each
  ** verification (made on first use): setting one up costs as much as an
  ** RSA verification. So a key is for one thread at a time. */
  EVP_MD_CTX *verify_ctx[4];
} tp_crypto_key;

/* "ed25519" / "rsa" (any case) -> TP_CRYPTO_KEY_*, else TP_CRYPTO_EINVAL. */
int tp_crypto_key_type_by_name(const char *name);
const char *tp_crypto_key_type_name(int type);   /* "ed25519" / "rsa" */
/* "ED25519" / "RSA_SHA256" / "RSA_PSS_SHA256" (any case) -> TP_CRYPTO_SIG_*. */
int tp_crypto_sig_by_name(const char *name);
const char *tp_crypto_sig_name(int alg);

/* A new key pair. bits is for RSA only (0: the default; refused outside
** the limits above). */
int tp_crypto_key_generate(tp_crypto_key *k, int type, int bits);

/* A key from PEM text: PKCS#8 ("PRIVATE KEY"), SubjectPublicKeyInfo
** ("PUBLIC KEY"), or RSA's own ("RSA PRIVATE KEY", "RSA PUBLIC KEY").
** With public_only, only the public half of whatever the text holds is
** kept. The first PEM block is read; text around it is ignored. */
int tp_crypto_key_load_pem(tp_crypto_key *k, const char *pem, size_t len, int public_only);

/* Adopt pkey (a reference the caller gives up, even on failure) after
** checking its type and size; public_only keeps just the public half. */
int tp_crypto_key_adopt(tp_crypto_key *k, EVP_PKEY *pkey, int public_only);

/* Free the key (and clear its private material). Idempotent. */
void tp_crypto_key_free(tp_crypto_key *k);

/* The DER SubjectPublicKeyInfo; *der is OPENSSL_malloc'd (OPENSSL_free). */
int tp_crypto_key_public_der(const tp_crypto_key *k, unsigned char **der, size_t *len);
/* SHA-256 of the DER SubjectPublicKeyInfo, 32 bytes. */
int tp_crypto_key_id(const tp_crypto_key *k, unsigned char *out);

/* PEM text into *pem (OPENSSL_malloc'd). Release a public one with
** OPENSSL_free, a private one (PKCS#8, unencrypted) with OPENSSL_clear_free
** (pem, len). */
int tp_crypto_key_public_pem(const tp_crypto_key *k, char **pem, size_t *len);
int tp_crypto_key_private_pem(const tp_crypto_key *k, char **pem, size_t *len);

/* TP_CRYPTO_EWRONGALG unless alg fits the key type. */
int tp_crypto_key_fits(const tp_crypto_key *k, int alg);
/* Size of the key's signatures: 64 for Ed25519, the modulus bytes for RSA. */
size_t tp_crypto_key_sig_size(const tp_crypto_key *k);

/* Sign data; sig has room for tp_crypto_key_sig_size(k) bytes. */
int tp_crypto_key_sign(const tp_crypto_key *k, int alg, const void *data, size_t len,
                       unsigned char *sig, size_t *siglen);
/* 1 when sig is a valid signature of data, 0 for any mismatch or malformed
** signature, TP_CRYPTO_EWRONGALG (or another negative code) otherwise. */
int tp_crypto_key_verify(tp_crypto_key *k, int alg, const void *data, size_t len,
                         const void *sig, size_t siglen);

#endif
