/*
** crypto_x509.h: X.509 certificates and certificate chains on OpenSSL 3:
** loading (PEM or DER), ids, the fields a trust decision reads, making
** test certificates, and verifying a chain to a trusted root with
** X509_STORE / X509_verify_cert plus the checks OpenSSL leaves to the
** caller (revocation by certificate id, key usage of the signing leaf).
** See docs/crypto.md.
*/
#ifndef TP_CRYPTO_X509_H
#define TP_CRYPTO_X509_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "crypto_key.h"

/* A certificate from PEM text (the first CERTIFICATE block) or DER (the
** whole input must be one certificate). */
int tp_crypto_cert_load(X509 **out, const void *data, size_t len);

/* SHA-256 of the DER encoding (32 bytes): the same for PEM and DER input. */
int tp_crypto_cert_id(X509 *x, unsigned char *out);
/* DER (release with OPENSSL_free) and PEM (likewise) forms. */
int tp_crypto_cert_der(X509 *x, unsigned char **der, size_t *len);
int tp_crypto_cert_pem(X509 *x, char **pem, size_t *len);

/* A name as one line of text, "CN=Leaf,O=Example" (RFC 4514 escaping, in
** the order the certificate encodes it, UTF-8 kept, control bytes
** escaped). Returns an OPENSSL_malloc'd string or NULL. */
char *tp_crypto_name_text(const X509_NAME *name);

/* Validity as Unix seconds. */
int tp_crypto_cert_validity(X509 *x, int64_t *not_before, int64_t *not_after);
/* 1 when basicConstraints says CA:TRUE. */
int tp_crypto_cert_is_ca(X509 *x);
/* Key usage bits (TP_CRYPTO_KU_*); returns 1 when the extension is
** present, 0 when it is absent (*bits then 0). */
int tp_crypto_cert_key_usage(X509 *x, uint32_t *bits);
/* The certified public key, checked as any key entering is. */
int tp_crypto_cert_public_key(X509 *x, tp_crypto_key *k);

/* Key usage names of RFC 5280 and their bits: iterate i from 0 until NULL. */
const char *tp_crypto_ku_name(size_t i, uint32_t *bit);
#define TP_CRYPTO_KU_DIGITAL_SIGNATURE 0x80u   /* OpenSSL's KU_ values */
#define TP_CRYPTO_KU_KEY_CERT_SIGN     0x04u
#define TP_CRYPTO_KU_CRL_SIGN          0x02u

/* What a test certificate (or `tplua keygen --self-signed`) says. */
typedef struct tp_crypto_cert_spec {
  const char *subject;               /* "CN=x,O=y" or "/CN=x/O=y" */
  const tp_crypto_key *key;          /* the key certified (its public half) */
  X509 *issuer_cert;                 /* NULL: self-signed */
  const tp_crypto_key *issuer_key;   /* signs the certificate; NULL: key */
  int64_t not_before, not_after;     /* Unix seconds */
  int ca;                            /* basicConstraints CA:TRUE (critical) */
  int key_usage_set;                 /* 0: keyCertSign+cRLSign for a CA, else digitalSignature */
  uint32_t key_usage;                /* TP_CRYPTO_KU_* bits; 0 with key_usage_set: no extension */
  const char *ext_key_usage;         /* e.g. "codeSigning", or NULL for none */
  uint64_t serial;                   /* 0: 63 random bits */
} tp_crypto_cert_spec;

/* Make and sign a certificate (X.509 v3 with subject and authority key
** identifiers). why gets a message on TP_CRYPTO_EFORMAT (a bad subject). */
int tp_crypto_cert_make(X509 **out, const tp_crypto_cert_spec *spec,
                        char *why, size_t whylen);

/* Chain verification. */
typedef struct tp_crypto_chain_opts {
  X509 *const *trusted;              /* anchors: roots, or any cert trusted as is */
  size_t ntrusted;
  X509 *const *untrusted;            /* intermediates to build the path with */
  size_t nuntrusted;
  const unsigned char *revoked;      /* nrevoked ids of 32 bytes, back to back */
  size_t nrevoked;
  int64_t at;                        /* the time to check validity at */
  int code_signing;                  /* leaf must have keyUsage digitalSignature,
                                     ** and codeSigning if it has an EKU */
} tp_crypto_chain_opts;

/* Why a chain failed. */
enum {
  TP_CRYPTO_CHAIN_OK, TP_CRYPTO_CHAIN_EXPIRED, TP_CRYPTO_CHAIN_NOT_YET_VALID,
  TP_CRYPTO_CHAIN_REVOKED, TP_CRYPTO_CHAIN_UNTRUSTED, TP_CRYPTO_CHAIN_NOT_CA,
  TP_CRYPTO_CHAIN_KEY_USAGE, TP_CRYPTO_CHAIN_SIGNATURE, TP_CRYPTO_CHAIN_WEAK,
  TP_CRYPTO_CHAIN_PURPOSE, TP_CRYPTO_CHAIN_INVALID
};
/* "ok", "expired", "not_yet_valid", "revoked", "untrusted", "not_ca",
** "key_usage", "bad_signature", "weak", "purpose", "invalid". */
const char *tp_crypto_chain_code_name(int code);

typedef struct tp_crypto_chain_result {
  int code;                          /* TP_CRYPTO_CHAIN_* */
  int depth;                         /* of the failing certificate (0: leaf), or -1 */
  X509 *cert;                        /* the failing certificate (a reference), or NULL */
  STACK_OF(X509) *chain;             /* on success: leaf .. anchor (references) */
  char reason[512];                  /* names the certificate and why */
} tp_crypto_chain_result;

/* 0 with r filled in (r->code says the verdict), or a negative code when
** the check itself could not run. Free r with tp_crypto_chain_result_free. */
int tp_crypto_chain_verify(X509 *leaf, const tp_crypto_chain_opts *o,
                           tp_crypto_chain_result *r);
void tp_crypto_chain_result_free(tp_crypto_chain_result *r);

#endif
