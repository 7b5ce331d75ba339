/*
** crypto_x509.c: certificates and chains (see crypto_x509.h,
** docs/crypto.md).
**
** Chains are built and checked by X509_verify_cert on a store that holds
** only the caller's trusted certificates (never the system's CA bundle),
** at the caller's time, with strict X.509 checks and security level 2
** (RSA keys of at least 2048 bits, SHA-256 or better). OpenSSL knows no
** revocation list here and no code-signing purpose (3.0 has none), so the
** built chain is checked afterwards: revoked ids, then the leaf's key
** usage. Every verdict comes with a sentence naming the certificate.
*/
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto_x509.h"

/* ---------------------------------------------------------------------- */
/* Loading and reading                                                     */
/* ---------------------------------------------------------------------- */

int tp_crypto_cert_load(X509 **out, const void *data, size_t len) {
  const unsigned char *p = data;
  X509 *x = NULL;
  *out = NULL;
  if (len == 0 || len > INT_MAX) return TP_CRYPTO_EFORMAT;
  if (p[0] == 0x30) {   /* DER: a SEQUENCE, and nothing after it */
    x = d2i_X509(NULL, &p, (long)len);
    if (x != NULL && p != (const unsigned char *)data + len) {
      X509_free(x);
      x = NULL;
    }
  } else {
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    if (bio != NULL) x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
  }
  ERR_clear_error();
  if (x == NULL) return TP_CRYPTO_EFORMAT;
  *out = x;
  return 0;
}

int tp_crypto_cert_der(X509 *x, unsigned char **der, size_t *len) {
  int n;
  *der = NULL;
  n = i2d_X509(x, der);   /* the encoding as it was read */
  if (n <= 0) {
    ERR_clear_error();
    return TP_CRYPTO_EOPENSSL;
  }
  *len = (size_t)n;
  return 0;
}

int tp_crypto_cert_id(X509 *x, unsigned char *out) {
  unsigned char *der;
  size_t len;
  int rc = tp_crypto_cert_der(x, &der, &len);
  if (rc < 0) return rc;
  rc = tp_crypto_digest(TP_CRYPTO_SHA256, der, len, out);
  OPENSSL_free(der);
  return rc < 0 ? rc : 0;
}

/* Copy a memory BIO's contents into a new terminated string. */
static char *bio_string(BIO *bio, size_t *len) {
  char *data, *s;
  long n = BIO_get_mem_data(bio, &data);
  if (n < 0 || (s = OPENSSL_malloc((size_t)n + 1)) == NULL) return NULL;
  if (n > 0) memcpy(s, data, (size_t)n);
  s[n] = '\0';
  if (len) *len = (size_t)n;
  return s;
}

int tp_crypto_cert_pem(X509 *x, char **pem, size_t *len) {
  BIO *bio = BIO_new(BIO_s_mem());
  int rc = TP_CRYPTO_EOPENSSL;
  *pem = NULL;
  if (bio == NULL) return TP_CRYPTO_ENOMEM;
  if (PEM_write_bio_X509(bio, x)) rc = (*pem = bio_string(bio, len)) ? 0 : TP_CRYPTO_ENOMEM;
  BIO_free(bio);
  ERR_clear_error();
  return rc;
}

char *tp_crypto_name_text(const X509_NAME *name) {
  /* RFC 2253 style, but in encoded order and with UTF-8 left readable. */
  unsigned long flags = ((ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT)
                        | XN_FLAG_SEP_COMMA_PLUS | XN_FLAG_FN_SN | XN_FLAG_DUMP_UNKNOWN_FIELDS;
  BIO *bio = BIO_new(BIO_s_mem());
  char *s = NULL;
  if (bio == NULL) return NULL;
  if (X509_NAME_print_ex(bio, name, 0, flags) >= 0) s = bio_string(bio, NULL);
  BIO_free(bio);
  ERR_clear_error();
  return s;
}

static int time_unix(const ASN1_TIME *t, int64_t *out) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
    ERR_clear_error();
    return TP_CRYPTO_EFORMAT;
  }
  *out = (int64_t)timegm(&tm);
  return 0;
}

int tp_crypto_cert_validity(X509 *x, int64_t *not_before, int64_t *not_after) {
  int rc = time_unix(X509_get0_notBefore(x), not_before);
  return rc < 0 ? rc : time_unix(X509_get0_notAfter(x), not_after);
}

int tp_crypto_cert_is_ca(X509 *x) {
  return (X509_get_extension_flags(x) & EXFLAG_CA) != 0;
}

int tp_crypto_cert_key_usage(X509 *x, uint32_t *bits) {
  *bits = 0;
  if (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE)) return 0;
  *bits = X509_get_key_usage(x);
  return 1;
}

int tp_crypto_cert_public_key(X509 *x, tp_crypto_key *k) {
  EVP_PKEY *pkey = X509_get0_pubkey(x);
  memset(k, 0, sizeof *k);
  if (pkey == NULL) {
    ERR_clear_error();
    return TP_CRYPTO_EKEYTYPE;   /* an algorithm OpenSSL cannot even decode */
  }
  EVP_PKEY_up_ref(pkey);
  return tp_crypto_key_adopt(k, pkey, 1);
}

static const struct { const char *name; uint32_t bit; } key_usages[] = {
  {"digitalSignature", KU_DIGITAL_SIGNATURE},
  {"nonRepudiation", KU_NON_REPUDIATION},
  {"keyEncipherment", KU_KEY_ENCIPHERMENT},
  {"dataEncipherment", KU_DATA_ENCIPHERMENT},
  {"keyAgreement", KU_KEY_AGREEMENT},
  {"keyCertSign", KU_KEY_CERT_SIGN},
  {"cRLSign", KU_CRL_SIGN},
  {"encipherOnly", KU_ENCIPHER_ONLY},
  {"decipherOnly", KU_DECIPHER_ONLY},
};

const char *tp_crypto_ku_name(size_t i, uint32_t *bit) {
  if (i >= sizeof key_usages / sizeof *key_usages) return NULL;
  if (bit) *bit = key_usages[i].bit;
  return key_usages[i].name;
}

/* ---------------------------------------------------------------------- */
/* Making certificates                                                     */
/* ---------------------------------------------------------------------- */

/* Add "FIELD=value" (len bytes, '\' escapes the next byte) to name. */
static int add_rdn(X509_NAME *name, const char *s, size_t len, char *why, size_t whylen) {
  char field[64], value[1024];
  size_t i = 0, f = 0, v = 0;
  while (i < len && s[i] != '=' && f + 1 < sizeof field) field[f++] = s[i++];
  field[f] = '\0';
  while (f > 0 && field[f - 1] == ' ') field[--f] = '\0';
  if (i >= len || s[i] != '=' || f == 0) {
    snprintf(why, whylen, "expected FIELD=value, got \"%.*s\"", (int)(len > 80 ? 80 : len), s);
    return TP_CRYPTO_EFORMAT;
  }
  for (i++; i < len && v + 1 < sizeof value; i++) {
    if (s[i] == '\\' && i + 1 < len) i++;
    value[v++] = s[i];
  }
  if (i < len) {
    snprintf(why, whylen, "the value of %s is longer than %zu bytes", field, sizeof value - 1);
    return TP_CRYPTO_EFORMAT;
  }
  if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (const unsigned char *)value,
                                  (int)v, -1, 0)) {
    ERR_clear_error();
    snprintf(why, whylen, "unknown name field or bad value in \"%s=...\"", field);
    return TP_CRYPTO_EFORMAT;
  }
  return 0;
}

/* "CN=a,O=b" (',' separates, '\,' escapes) or "/CN=a/O=b" -> a name. */
static int parse_name(X509_NAME *name, const char *s, char *why, size_t whylen) {
  char sep = ',';
  size_t start, i;
  if (*s == '/') {
    sep = '/';
    s++;
  }
  if (*s == '\0') {
    snprintf(why, whylen, "the subject is empty; expected e.g. \"CN=name\"");
    return TP_CRYPTO_EFORMAT;
  }
  for (start = i = 0;; i++) {
    if (s[i] == '\\' && s[i + 1] != '\0') {
      i++;
      continue;
    }
    if (s[i] == sep || s[i] == '\0') {
      int rc;
      while (s[start] == ' ') start++;
      if ((rc = add_rdn(name, s + start, i - start, why, whylen)) < 0) return rc;
      if (s[i] == '\0') return 0;
      start = i + 1;
    }
  }
}

/* Add one extension given in OpenSSL's configuration syntax. */
static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
  int ok = ext != NULL && X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

static void key_usage_text(uint32_t bits, char *out, size_t cap) {
  size_t i, n = (size_t)snprintf(out, cap, "critical");
  for (i = 0; i < sizeof key_usages / sizeof *key_usages && n < cap; i++)
    if (bits & key_usages[i].bit)
      n += (size_t)snprintf(out + n, cap - n, ",%s", key_usages[i].name);
}

static int add_extensions(X509 *x, const tp_crypto_cert_spec *s) {
  X509V3_CTX ctx;
  char ku[256];
  uint32_t bits = s->key_usage_set ? s->key_usage
                  : s->ca ? (TP_CRYPTO_KU_KEY_CERT_SIGN | TP_CRYPTO_KU_CRL_SIGN)
                  : TP_CRYPTO_KU_DIGITAL_SIGNATURE;
  /* For a self-signed certificate the issuer is the certificate itself,
  ** so its authority key id is its own subject key id. */
  X509V3_set_ctx(&ctx, s->issuer_cert ? s->issuer_cert : x, x, NULL, NULL, 0);
  X509V3_set_ctx_nodb(&ctx);
  if (!add_ext(x, &ctx, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE")
      || !add_ext(x, &ctx, NID_subject_key_identifier, "hash")
      || !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
    return 0;
  key_usage_text(bits, ku, sizeof ku);
  if (bits && !add_ext(x, &ctx, NID_key_usage, ku)) return 0;
  if (s->ext_key_usage && *s->ext_key_usage && !add_ext(x, &ctx, NID_ext_key_usage, s->ext_key_usage))
    return 0;
  return 1;
}

static int set_serial(X509 *x, uint64_t serial) {
  ASN1_INTEGER *a = X509_get_serialNumber(x);
  if (serial == 0) {   /* positive and non-zero: 63 random bits, top one set */
    if (tp_crypto_random(&serial, sizeof serial) < 0) return 0;
    serial = (serial >> 1) | (UINT64_C(1) << 62);
  }
  return ASN1_INTEGER_set_uint64(a, serial);
}

int tp_crypto_cert_make(X509 **out, const tp_crypto_cert_spec *s, char *why, size_t whylen) {
  const tp_crypto_key *signer = s->issuer_key ? s->issuer_key : s->key;
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  int rc = TP_CRYPTO_EOPENSSL;
  *out = NULL;
  why[0] = '\0';
  if (s->key == NULL || s->key->pkey == NULL || signer->pkey == NULL || s->subject == NULL) {
    rc = TP_CRYPTO_EINVAL;
  } else if (!signer->is_private) {
    rc = TP_CRYPTO_ENOPRIVATE;
  } else if (x && name && (rc = parse_name(name, s->subject, why, whylen)) == 0) {
    rc = TP_CRYPTO_EOPENSSL;
    if (X509_set_version(x, X509_VERSION_3) && set_serial(x, s->serial)
        && X509_set_subject_name(x, name)
        && X509_set_issuer_name(x, s->issuer_cert ? X509_get_subject_name(s->issuer_cert) : name)
        && ASN1_TIME_set(X509_getm_notBefore(x), (time_t)s->not_before)
        && ASN1_TIME_set(X509_getm_notAfter(x), (time_t)s->not_after)
        && X509_set_pubkey(x, s->key->pkey) && add_extensions(x, s)
        /* Ed25519 signs without a separate digest. */
        && X509_sign(x, signer->pkey, signer->type == TP_CRYPTO_KEY_RSA ? EVP_sha256() : NULL) > 0)
      rc = 0;
  }
  X509_NAME_free(name);
  ERR_clear_error();
  if (rc < 0) {
    X509_free(x);
    return rc;
  }
  *out = x;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Chains                                                                  */
/* ---------------------------------------------------------------------- */

static const char *const chain_codes[] = {
  "ok", "expired", "not_yet_valid", "revoked", "untrusted", "not_ca",
  "key_usage", "bad_signature", "weak", "purpose", "invalid",
};

const char *tp_crypto_chain_code_name(int code) {
  if (code < 0 || code > TP_CRYPTO_CHAIN_INVALID) return "invalid";
  return chain_codes[code];
}

void tp_crypto_chain_result_free(tp_crypto_chain_result *r) {
  X509_free(r->cert);
  r->cert = NULL;
  if (r->chain) sk_X509_pop_free(r->chain, X509_free);
  r->chain = NULL;
}

static void format_time(int64_t t, char *buf, size_t cap) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(buf, cap, "%lld", (long long)t);
}

/* "certificate "CN=x" (leaf, depth 0)": how every reason names its
** certificate. The subject is cut to keep a hostile name from drowning
** the message. */
static void describe(X509 *x, int depth, char *buf, size_t cap) {
  char *subject = x ? tp_crypto_name_text(X509_get_subject_name(x)) : NULL;
  const char *role = depth == 0 ? "leaf"
                     : (x && X509_check_issued(x, x) == X509_V_OK) ? "root" : "intermediate";
  size_t n = subject ? strlen(subject) : 0;
  snprintf(buf, cap, "certificate \"%.*s%s\" (%s, depth %d)", n > 160 ? 157 : (int)n,
           subject ? subject : "?", n > 160 ? "..." : "", role, depth);
  OPENSSL_free(subject);
  ERR_clear_error();
}

/* Set r's verdict: code, the certificate at depth and a sentence
** "<certificate> <text>". */
__attribute__((format(printf, 5, 6)))
static void verdict(tp_crypto_chain_result *r, int code, X509 *x, int depth, const char *fmt, ...) {
  char who[256];
  va_list ap;
  size_t n;
  r->code = code;
  r->depth = depth;
  X509_free(r->cert);
  r->cert = x;
  if (x) X509_up_ref(x);
  describe(x, depth, who, sizeof who);
  n = (size_t)snprintf(r->reason, sizeof r->reason, "%s ", who);
  if (n >= sizeof r->reason) return;
  va_start(ap, fmt);
  vsnprintf(r->reason + n, sizeof r->reason - n, fmt, ap);
  va_end(ap);
}

/* Translate the error X509_verify_cert stopped at. */
static void openssl_verdict(tp_crypto_chain_result *r, X509_STORE_CTX *ctx, int64_t at) {
  int err = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);
  X509 *x = X509_STORE_CTX_get_current_cert(ctx);
  char when[32], edge[32];
  int64_t nb = 0, na = 0;
  char *issuer;
  format_time(at, when, sizeof when);
  if (x) tp_crypto_cert_validity(x, &nb, &na);
  switch (err) {
  case X509_V_ERR_CERT_HAS_EXPIRED:
    format_time(na, edge, sizeof edge);
    verdict(r, TP_CRYPTO_CHAIN_EXPIRED, x, depth, "has expired: not valid after %s (checked at %s)", edge, when);
    break;
  case X509_V_ERR_CERT_NOT_YET_VALID:
    format_time(nb, edge, sizeof edge);
    verdict(r, TP_CRYPTO_CHAIN_NOT_YET_VALID, x, depth, "is not yet valid: not valid before %s (checked at %s)", edge, when);
    break;
  case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
  case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    verdict(r, TP_CRYPTO_CHAIN_UNTRUSTED, x, depth, "is self-signed but not trusted: untrusted root");
    break;
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
  case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
  case X509_V_ERR_CERT_UNTRUSTED:
    issuer = x ? tp_crypto_name_text(X509_get_issuer_name(x)) : NULL;
    verdict(r, TP_CRYPTO_CHAIN_UNTRUSTED, x, depth,
            "was issued by \"%.160s\", which is neither trusted nor given: untrusted root",
            issuer ? issuer : "?");
    OPENSSL_free(issuer);
    break;
  case X509_V_ERR_INVALID_CA:
    /* OpenSSL says "invalid CA" for both: tell them apart. */
    if (x && tp_crypto_cert_is_ca(x)) {
      verdict(r, TP_CRYPTO_CHAIN_KEY_USAGE, x, depth,
              "issued the certificate below it, but its key usage lacks keyCertSign");
      break;
    }
    verdict(r, TP_CRYPTO_CHAIN_NOT_CA, x, depth,
            "is not a CA (basicConstraints CA:TRUE missing) but issued the certificate below it");
    break;
  case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
    verdict(r, TP_CRYPTO_CHAIN_KEY_USAGE, x, depth,
            "issued the certificate below it, but its key usage lacks keyCertSign");
    break;
  case X509_V_ERR_CERT_SIGNATURE_FAILURE:
  case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
  case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    verdict(r, TP_CRYPTO_CHAIN_SIGNATURE, x, depth,
            "has a signature that does not verify with its issuer's key");
    break;
  case X509_V_ERR_EE_KEY_TOO_SMALL:
  case X509_V_ERR_CA_KEY_TOO_SMALL:
  case X509_V_ERR_CA_MD_TOO_WEAK:
    verdict(r, TP_CRYPTO_CHAIN_WEAK, x, depth, "is too weak: %s", X509_verify_cert_error_string(err));
    break;
  default:
    verdict(r, TP_CRYPTO_CHAIN_INVALID, x, depth, "is invalid: %s", X509_verify_cert_error_string(err));
  }
}

static int is_revoked(X509 *x, const tp_crypto_chain_opts *o) {
  unsigned char id[32];
  size_t i;
  if (o->nrevoked == 0) return 0;
  if (tp_crypto_cert_id(x, id) < 0) return 1;   /* fail closed */
  for (i = 0; i < o->nrevoked; i++)
    if (memcmp(id, o->revoked + 32 * i, 32) == 0) return 1;
  return 0;
}

/* After OpenSSL accepted the chain: revocations, then the leaf's usage. */
static void post_checks(tp_crypto_chain_result *r, const tp_crypto_chain_opts *o) {
  X509 *leaf = sk_X509_value(r->chain, 0);
  uint32_t ku, eku;
  int has_ku, i;
  for (i = 0; i < sk_X509_num(r->chain); i++) {
    X509 *x = sk_X509_value(r->chain, i);
    if (is_revoked(x, o)) {
      unsigned char id[32];
      char hex[65];
      tp_crypto_cert_id(x, id);
      tp_crypto_hex_encode(id, 32, hex);
      hex[64] = '\0';
      verdict(r, TP_CRYPTO_CHAIN_REVOKED, x, i, "is revoked (sha256:%s)", hex);
      return;
    }
  }
  has_ku = tp_crypto_cert_key_usage(leaf, &ku);
  if ((has_ku || o->code_signing) && !(ku & TP_CRYPTO_KU_DIGITAL_SIGNATURE)) {
    verdict(r, TP_CRYPTO_CHAIN_KEY_USAGE, leaf, 0, "%s", has_ku
            ? "signs, but its key usage lacks digitalSignature"
            : "signs code, but has no key usage extension (digitalSignature is required)");
    return;
  }
  eku = X509_get_extended_key_usage(leaf);
  if (o->code_signing && (X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE)
      && !(eku & (XKU_CODE_SIGN | XKU_ANYEKU))) {
    verdict(r, TP_CRYPTO_CHAIN_PURPOSE, leaf, 0, "has an extended key usage without codeSigning");
    return;
  }
  r->code = TP_CRYPTO_CHAIN_OK;
}

/* The store of anchors and the stack of intermediates. */
static int chain_inputs(const tp_crypto_chain_opts *o, X509_STORE **store, STACK_OF(X509) **untrusted) {
  size_t i;
  *store = X509_STORE_new();
  *untrusted = sk_X509_new_null();
  if (*store == NULL || *untrusted == NULL) return 0;
  for (i = 0; i < o->ntrusted; i++)
    if (!X509_STORE_add_cert(*store, o->trusted[i])) return 0;
  for (i = 0; i < o->nuntrusted; i++)
    if (!sk_X509_push(*untrusted, o->untrusted[i])) return 0;   /* borrowed */
  return 1;
}

static int chain_params(X509_STORE_CTX *ctx, const tp_crypto_chain_opts *o) {
  X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_time(p, (time_t)o->at);
  X509_VERIFY_PARAM_set_depth(p, 16);
  X509_VERIFY_PARAM_set_auth_level(p, 2);
  /* PARTIAL_CHAIN: a trusted certificate is an anchor even when it is not
  ** self-signed (a trusted intermediate, a trusted leaf). */
  return X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN);
}

int tp_crypto_chain_verify(X509 *leaf, const tp_crypto_chain_opts *o, tp_crypto_chain_result *r) {
  X509_STORE *store = NULL;
  STACK_OF(X509) *untrusted = NULL;
  X509_STORE_CTX *ctx = NULL;
  int rc = TP_CRYPTO_ENOMEM, ok;
  memset(r, 0, sizeof *r);
  r->depth = -1;
  if (chain_inputs(o, &store, &untrusted) && (ctx = X509_STORE_CTX_new()) != NULL
      && X509_STORE_CTX_init(ctx, store, leaf, untrusted) && chain_params(ctx, o)) {
    rc = 0;
    ok = X509_verify_cert(ctx);
    if (ok == 1 && (r->chain = X509_STORE_CTX_get1_chain(ctx)) != NULL)
      post_checks(r, o);
    else if (ok == 1)
      rc = TP_CRYPTO_ENOMEM;
    else
      openssl_verdict(r, ctx, o->at);
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  X509_STORE_free(store);
  ERR_clear_error();
  if (rc < 0) tp_crypto_chain_result_free(r);
  return rc;
}
