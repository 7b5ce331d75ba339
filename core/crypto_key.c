/*
** crypto_key.c: Ed25519 and RSA keys, their PEM forms, ids and signatures
** (see crypto_key.h, docs/crypto.md).
**
** Everything goes through EVP: keys are decoded with OSSL_DECODER (which
** knows PKCS#8, SubjectPublicKeyInfo and RSA's own PEM forms), signatures
** are EVP_DigestSign/EVP_DigestVerify (Ed25519 with no digest: it hashes
** the message itself). A key is checked once, when it enters (generated,
** decoded or taken from a certificate), so sign and verify can trust its
** type and size.
*/
#include <limits.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto_key.h"

/* ---------------------------------------------------------------------- */
/* Names                                                                   */
/* ---------------------------------------------------------------------- */

int tp_crypto_key_type_by_name(const char *name) {
  if (name == NULL) return TP_CRYPTO_EINVAL;
  if (strcasecmp(name, "ed25519") == 0) return TP_CRYPTO_KEY_ED25519;
  if (strcasecmp(name, "rsa") == 0) return TP_CRYPTO_KEY_RSA;
  return TP_CRYPTO_EINVAL;
}

const char *tp_crypto_key_type_name(int type) {
  return type == TP_CRYPTO_KEY_ED25519 ? "ed25519" : type == TP_CRYPTO_KEY_RSA ? "rsa" : "?";
}

int tp_crypto_sig_by_name(const char *name) {
  if (name == NULL) return TP_CRYPTO_EINVAL;
  if (strcasecmp(name, "ED25519") == 0) return TP_CRYPTO_SIG_ED25519;
  if (strcasecmp(name, "RSA_SHA256") == 0) return TP_CRYPTO_SIG_RSA_SHA256;
  if (strcasecmp(name, "RSA_PSS_SHA256") == 0) return TP_CRYPTO_SIG_RSA_PSS_SHA256;
  return TP_CRYPTO_EINVAL;
}

const char *tp_crypto_sig_name(int alg) {
  switch (alg) {
  case TP_CRYPTO_SIG_ED25519: return "ED25519";
  case TP_CRYPTO_SIG_RSA_SHA256: return "RSA_SHA256";
  case TP_CRYPTO_SIG_RSA_PSS_SHA256: return "RSA_PSS_SHA256";
  default: return "?";
  }
}

/* ---------------------------------------------------------------------- */
/* Taking a key in                                                         */
/* ---------------------------------------------------------------------- */

/* Does pkey hold private material? OpenSSL 3 has no direct question for
** it; asking for the private component answers it. */
static int has_private(EVP_PKEY *pkey, int type) {
  int yes;
  if (type == TP_CRYPTO_KEY_ED25519) {
    size_t n = 0;
    yes = EVP_PKEY_get_raw_private_key(pkey, NULL, &n) == 1 && n > 0;
  } else {
    BIGNUM *d = NULL;
    yes = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_D, &d) == 1 && d != NULL;
    BN_clear_free(d);
  }
  ERR_clear_error();
  return yes;
}

/* A new EVP_PKEY holding only the public half of pkey (through its DER
** SubjectPublicKeyInfo, the one form every key type round-trips). */
static EVP_PKEY *public_half(EVP_PKEY *pkey) {
  unsigned char *der = NULL;
  const unsigned char *p;
  EVP_PKEY *pub = NULL;
  int n = i2d_PUBKEY(pkey, &der);
  if (n > 0) {
    p = der;
    pub = d2i_PUBKEY(NULL, &p, n);
  }
  OPENSSL_free(der);
  return pub;
}

int tp_crypto_key_adopt(tp_crypto_key *k, EVP_PKEY *pkey, int public_only) {
  int type, bits;
  memset(k, 0, sizeof *k);
  if (pkey == NULL) return TP_CRYPTO_EINVAL;
  /* RSA-PSS keys are also "RSA" to some queries: ask for the exact type. */
  if (EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519) type = TP_CRYPTO_KEY_ED25519;
  else if (EVP_PKEY_get_id(pkey) == EVP_PKEY_RSA) type = TP_CRYPTO_KEY_RSA;
  else {
    EVP_PKEY_free(pkey);
    return TP_CRYPTO_EKEYTYPE;
  }
  bits = EVP_PKEY_get_bits(pkey);
  if (type == TP_CRYPTO_KEY_RSA && (bits < TP_CRYPTO_RSA_MIN_BITS || bits > TP_CRYPTO_RSA_MAX_BITS)) {
    EVP_PKEY_free(pkey);
    return TP_CRYPTO_EKEYSIZE;
  }
  k->is_private = has_private(pkey, type);
  if (public_only && k->is_private) {
    EVP_PKEY *pub = public_half(pkey);
    EVP_PKEY_free(pkey);   /* clears the private half */
    if (pub == NULL) {
      ERR_clear_error();
      return TP_CRYPTO_EOPENSSL;
    }
    pkey = pub;
    k->is_private = 0;
  }
  k->pkey = pkey;
  k->type = type;
  k->bits = bits;
  return 0;
}

void tp_crypto_key_free(tp_crypto_key *k) {
  size_t i;
  for (i = 0; i < sizeof k->verify_ctx / sizeof *k->verify_ctx; i++) {
    EVP_MD_CTX_free(k->verify_ctx[i]);
    k->verify_ctx[i] = NULL;
  }
  EVP_PKEY_free(k->pkey);   /* OpenSSL clears private components it frees */
  k->pkey = NULL;
}

int tp_crypto_key_generate(tp_crypto_key *k, int type, int bits) {
  EVP_PKEY *pkey;
  memset(k, 0, sizeof *k);
  if (type == TP_CRYPTO_KEY_ED25519) {
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  } else if (type == TP_CRYPTO_KEY_RSA) {
    if (bits == 0) bits = TP_CRYPTO_RSA_DEFAULT_BITS;
    if (bits < TP_CRYPTO_RSA_MIN_BITS || bits > TP_CRYPTO_RSA_MAX_BITS) return TP_CRYPTO_EKEYSIZE;
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
  } else {
    return TP_CRYPTO_EINVAL;
  }
  if (pkey == NULL) {
    ERR_clear_error();
    return TP_CRYPTO_EOPENSSL;
  }
  return tp_crypto_key_adopt(k, pkey, 0);
}

/* The decoder's passphrase callback: there is no passphrase to give, and
** OpenSSL must never fall back to prompting on the terminal. Note that one
** was wanted, so the caller can say why the key did not load. */
static int no_passphrase(char *pass, size_t size, size_t *len,
                         const OSSL_PARAM params[], void *arg) {
  (void)pass; (void)size; (void)params;
  *len = 0;
  *(int *)arg = 1;
  return 0;
}

int tp_crypto_key_load_pem(tp_crypto_key *k, const char *pem, size_t len, int public_only) {
  EVP_PKEY *pkey = NULL;
  OSSL_DECODER_CTX *dctx;
  BIO *bio;
  int asked = 0, ok;
  memset(k, 0, sizeof *k);
  if (len > INT_MAX) return TP_CRYPTO_EFORMAT;
  bio = BIO_new_mem_buf(pem, (int)len);
  dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, 0, NULL, NULL);
  ok = bio != NULL && dctx != NULL
       && OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, &asked)
       && OSSL_DECODER_from_bio(dctx, bio) && pkey != NULL;
  OSSL_DECODER_CTX_free(dctx);
  BIO_free(bio);
  ERR_clear_error();
  if (!ok) {
    EVP_PKEY_free(pkey);
    return asked ? TP_CRYPTO_EENCRYPTED : TP_CRYPTO_EFORMAT;
  }
  return tp_crypto_key_adopt(k, pkey, public_only);
}

/* ---------------------------------------------------------------------- */
/* Exporting                                                               */
/* ---------------------------------------------------------------------- */

int tp_crypto_key_public_der(const tp_crypto_key *k, unsigned char **der, size_t *len) {
  int n;
  *der = NULL;
  if (k->pkey == NULL) return TP_CRYPTO_EINVAL;
  n = i2d_PUBKEY(k->pkey, der);
  if (n <= 0) {
    ERR_clear_error();
    return TP_CRYPTO_EOPENSSL;
  }
  *len = (size_t)n;
  return 0;
}

int tp_crypto_key_id(const tp_crypto_key *k, unsigned char *out) {
  unsigned char *der;
  size_t len;
  int rc = tp_crypto_key_public_der(k, &der, &len);
  if (rc < 0) return rc;
  rc = tp_crypto_digest(TP_CRYPTO_SHA256, der, len, out);
  OPENSSL_free(der);
  return rc < 0 ? rc : 0;
}

/* Copy what bio holds into a new buffer; a secure one is copied with
** OPENSSL_malloc and cleared in the bio when it is freed. */
static int bio_take(BIO *bio, char **out, size_t *len) {
  char *data;
  long n = BIO_get_mem_data(bio, &data);
  if (n <= 0 || (*out = OPENSSL_malloc((size_t)n + 1)) == NULL) return TP_CRYPTO_ENOMEM;
  memcpy(*out, data, (size_t)n);
  (*out)[n] = '\0';
  *len = (size_t)n;
  return 0;
}

int tp_crypto_key_public_pem(const tp_crypto_key *k, char **pem, size_t *len) {
  BIO *bio;
  int rc = TP_CRYPTO_EOPENSSL;
  *pem = NULL;
  if (k->pkey == NULL) return TP_CRYPTO_EINVAL;
  if ((bio = BIO_new(BIO_s_mem())) == NULL) return TP_CRYPTO_ENOMEM;
  if (PEM_write_bio_PUBKEY(bio, k->pkey)) rc = bio_take(bio, pem, len);
  BIO_free(bio);
  ERR_clear_error();
  return rc;
}

int tp_crypto_key_private_pem(const tp_crypto_key *k, char **pem, size_t *len) {
  BIO *bio;
  int rc = TP_CRYPTO_EOPENSSL;
  *pem = NULL;
  if (k->pkey == NULL) return TP_CRYPTO_EINVAL;
  if (!k->is_private) return TP_CRYPTO_ENOPRIVATE;
  /* A secure-memory BIO clears its buffer when freed. */
  if ((bio = BIO_new(BIO_s_secmem())) == NULL) return TP_CRYPTO_ENOMEM;
  if (PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL))
    rc = bio_take(bio, pem, len);
  BIO_free(bio);
  ERR_clear_error();
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Signatures                                                              */
/* ---------------------------------------------------------------------- */

int tp_crypto_key_fits(const tp_crypto_key *k, int alg) {
  switch (alg) {
  case TP_CRYPTO_SIG_ED25519:
    return k->type == TP_CRYPTO_KEY_ED25519 ? 0 : TP_CRYPTO_EWRONGALG;
  case TP_CRYPTO_SIG_RSA_SHA256:
  case TP_CRYPTO_SIG_RSA_PSS_SHA256:
    return k->type == TP_CRYPTO_KEY_RSA ? 0 : TP_CRYPTO_EWRONGALG;
  default:
    return TP_CRYPTO_EINVAL;
  }
}

size_t tp_crypto_key_sig_size(const tp_crypto_key *k) {
  if (k->pkey == NULL) return 0;
  return k->type == TP_CRYPTO_KEY_ED25519 ? 64 : (size_t)EVP_PKEY_get_size(k->pkey);
}

/* Set ctx up for alg over k, to sign or to verify. */
static int sig_init(EVP_MD_CTX *ctx, const tp_crypto_key *k, int alg, int sign) {
  EVP_PKEY_CTX *pctx = NULL;
  const char *md = alg == TP_CRYPTO_SIG_ED25519 ? NULL : "SHA2-256";
  int ok = sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, k->pkey, NULL)
                : EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, k->pkey, NULL);
  if (ok && alg == TP_CRYPTO_SIG_RSA_PSS_SHA256)
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
         && EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA2-256", NULL) > 0
         && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, TP_CRYPTO_PSS_SALT) > 0;
  else if (ok && alg == TP_CRYPTO_SIG_RSA_SHA256)
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
  return ok;
}

/* Checks shared by sign and verify. */
static int sig_check(const tp_crypto_key *k, int alg) {
  if (k->pkey == NULL) return TP_CRYPTO_EINVAL;
  return tp_crypto_key_fits(k, alg);
}

int tp_crypto_key_sign(const tp_crypto_key *k, int alg, const void *data, size_t len,
                       unsigned char *sig, size_t *siglen) {
  EVP_MD_CTX *ctx;
  int rc = sig_check(k, alg), ok;
  if (rc < 0) return rc;
  if (!k->is_private) return TP_CRYPTO_ENOPRIVATE;
  if ((ctx = EVP_MD_CTX_new()) == NULL) return TP_CRYPTO_ENOMEM;
  *siglen = tp_crypto_key_sig_size(k);
  ok = sig_init(ctx, k, alg, 1)
       && EVP_DigestSign(ctx, sig, siglen, len ? data : (const void *)"", len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    return TP_CRYPTO_EOPENSSL;
  }
  return 0;
}

/* A context ready to verify alg with k: a copy of the key's template for
** alg (made on first use), or a fresh one if copying is not possible. */
static EVP_MD_CTX *verify_ctx(tp_crypto_key *k, int alg) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new(), **tmpl = &k->verify_ctx[alg];
  if (ctx == NULL) return NULL;
  if (*tmpl == NULL && (*tmpl = EVP_MD_CTX_new()) != NULL && !sig_init(*tmpl, k, alg, 0)) {
    EVP_MD_CTX_free(*tmpl);
    *tmpl = NULL;
  }
  if (*tmpl != NULL && EVP_MD_CTX_copy_ex(ctx, *tmpl)) return ctx;
  EVP_MD_CTX_reset(ctx);
  if (sig_init(ctx, k, alg, 0)) return ctx;
  EVP_MD_CTX_free(ctx);
  return NULL;
}

int tp_crypto_key_verify(tp_crypto_key *k, int alg, const void *data, size_t len,
                         const void *sig, size_t siglen) {
  EVP_MD_CTX *ctx;
  int rc = sig_check(k, alg);
  if (rc < 0) return rc;
  /* A signature has exactly the key's size: anything else is malformed,
  ** whatever OpenSSL would make of it. */
  if (siglen != tp_crypto_key_sig_size(k)) return 0;
  ctx = verify_ctx(k, alg);
  rc = ctx ? EVP_DigestVerify(ctx, sig, siglen, len ? data : (const void *)"", len) : -1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (ctx == NULL) return TP_CRYPTO_EOPENSSL;
  return rc == 1;
}
