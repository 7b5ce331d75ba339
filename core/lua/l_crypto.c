/*
** l_crypto.c: Lua binding of core/crypto*.c (core.crypto). Binary data is
** Lua strings both ways. See docs/crypto.md for the whole API.
**
**   digest(alg, data)              -> raw bytes ("sha256" | "sha512")
**   hex(bytes), unhex(text)        -> text | bytes or nil, message
**   base64(bytes), unbase64(text)  -> likewise (strict RFC 4648)
**   hmac(alg, key, data [, {min_key_bytes = n}]) -> tag
**   hmac_verify(alg, key, data, tag) -> boolean (full-length tags only)
**   equal(a, b)                    -> boolean, constant time
**   random(n)                      -> n bytes
**   generate(kind [, bits])        -> Key
**   load_key(pem [, {public = bool}]) -> Key | nil, message
**   load_certificate(pem_or_der)   -> Certificate | nil, message
**   verify_chain(leaf, opts)       -> true, ids | false, reason, info
**   make_certificate(spec)         -> Certificate
**   create_file(path, data [, mode]) -> true | nil, message, errno
**
** Keys and certificates are userdata whose __gc and __close (one
** idempotent function) free the OpenSSL object; freeing a key clears its
** private material. Misuse (a wrong type, an unknown digest name) raises
** Lua's usual argument errors; signature algorithms that are unknown or do
** not fit the key raise InvalidSignatureError, since their names come from
** signature envelopes; bad input data returns nil and a message.
*/
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "crypto_key.h"
#include "crypto_x509.h"
#include "lua/l_core.h"

#define KEY_MT "truthound.crypto.Key"
#define CERT_MT "truthound.crypto.Certificate"
#define RANDOM_MAX (16 * 1024 * 1024)
#define CHAIN_MAX 32            /* more than X509_verify_cert's depth limit */

typedef struct l_cert {
  X509 *x;
} l_cert;

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

/* Raise a typed error with the field reason. */
static int raise_reason(lua_State *L, const char *kind, const char *reason, const char *msg) {
  lua_createtable(L, 0, 1);
  lua_pushstring(L, reason);
  lua_setfield(L, -2, "reason");
  return tpL_raisef(L, kind, -1, "%s", msg);
}

/* Push "sha256:" .. hex of a 32-byte id. */
static void push_id(lua_State *L, const unsigned char *id) {
  char text[7 + 64];
  memcpy(text, "sha256:", 7);
  tp_crypto_hex_encode(id, 32, text + 7);
  lua_pushlstring(L, text, sizeof text);
}

/* Parse "sha256:<64 hex>" into 32 bytes. */
static int parse_id(const char *s, size_t len, unsigned char *id) {
  size_t pos;
  return len == 7 + 64 && memcmp(s, "sha256:", 7) == 0
         && tp_crypto_hex_decode(s + 7, 64, id, &pos) == 0;
}

static int fail(lua_State *L, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

/* "invalid <what>: unexpected 'c' at position n" (bytes that do not
** print are shown in hex). */
static const char *bad_char(lua_State *L, const char *what, char ch, size_t pos) {
  char shown[8];
  unsigned char c = (unsigned char)ch;
  if (c >= 0x20 && c < 0x7f) snprintf(shown, sizeof shown, "'%c'", c);
  else snprintf(shown, sizeof shown, "0x%02x", c);
  return lua_pushfstring(L, "invalid %s: unexpected %s at position %I", what, shown,
                         (lua_Integer)pos + 1);
}

static int check_digest(lua_State *L, int idx) {
  const char *name = luaL_checkstring(L, idx);
  int alg = tp_crypto_digest_by_name(name);
  if (alg < 0) return luaL_argerror(L, idx, lua_pushfstring(L, "unknown digest '%s' (expected sha256 or sha512)", name));
  return alg;
}

/* An optional boolean field of an options table at idx. */
static int opt_flag(lua_State *L, int idx, const char *field) {
  int v;
  if (lua_isnoneornil(L, idx)) return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_getfield(L, idx, field);
  v = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* ---------------------------------------------------------------------- */
/* Primitives                                                              */
/* ---------------------------------------------------------------------- */

static int l_digest(lua_State *L) {
  int alg = check_digest(L, 1);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  unsigned char out[TP_CRYPTO_MAX_DIGEST];
  int n = tp_crypto_digest(alg, data, len, out);
  if (n < 0) return luaL_error(L, "digest: %s", tp_crypto_strerror(n));
  lua_pushlstring(L, (const char *)out, (size_t)n);
  return 1;
}

static int l_hex(lua_State *L) {
  size_t len;
  const char *data = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  char *out = luaL_buffinitsize(L, &b, 2 * len);
  tp_crypto_hex_encode(data, len, out);
  luaL_pushresultsize(&b, 2 * len);
  return 1;
}

static int l_unhex(lua_State *L) {
  size_t len, pos;
  const char *text = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, len / 2);
  if (tp_crypto_hex_decode(text, len, out, &pos) < 0) {
    if (pos >= len) return fail(L, lua_pushfstring(L, "invalid hex: odd length %I", (lua_Integer)len));
    return fail(L, bad_char(L, "hex", text[pos], pos));
  }
  luaL_pushresultsize(&b, len / 2);
  return 1;
}

static int l_base64(lua_State *L) {
  size_t len;
  const char *data = luaL_checklstring(L, 1, &len);
  size_t n = tp_crypto_base64_size(len);
  luaL_Buffer b;
  tp_crypto_base64_encode(data, len, luaL_buffinitsize(L, &b, n));
  luaL_pushresultsize(&b, n);
  return 1;
}

static int l_unbase64(lua_State *L) {
  size_t len, pos, n;
  const char *text = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, len / 4 * 3);
  if (tp_crypto_base64_decode(text, len, out, &n, &pos) < 0) {
    if (pos >= len)
      return fail(L, lua_pushfstring(L, "invalid base64: length %I is not a multiple of 4", (lua_Integer)len));
    return fail(L, bad_char(L, "base64", text[pos], pos));
  }
  luaL_pushresultsize(&b, n);
  return 1;
}

static int raise_short_key(lua_State *L, size_t keylen, size_t min) {
  lua_pushfstring(L, "HMAC key of %d bytes refused: at least %d bytes are required",
                  (int)keylen, (int)min);
  return raise_reason(L, "InvalidSignatureError", "short HMAC key", lua_tostring(L, -1));
}

static int l_hmac(lua_State *L) {
  int alg = check_digest(L, 1), n;
  size_t keylen, len;
  const char *key = luaL_checklstring(L, 2, &keylen);
  const char *data = luaL_checklstring(L, 3, &len);
  lua_Integer min = TP_CRYPTO_HMAC_MIN_KEY;
  unsigned char out[TP_CRYPTO_MAX_DIGEST];
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    if (lua_getfield(L, 4, "min_key_bytes") != LUA_TNIL) {
      int isint;
      min = lua_tointegerx(L, -1, &isint);
      luaL_argcheck(L, isint && min >= 0, 4, "min_key_bytes must be a non-negative integer");
    }
    lua_pop(L, 1);
  }
  n = tp_crypto_hmac(alg, key, keylen, (size_t)min, data, len, out);
  if (n == TP_CRYPTO_ESHORTKEY) return raise_short_key(L, keylen, (size_t)min);
  if (n < 0) return luaL_error(L, "hmac: %s", tp_crypto_strerror(n));
  lua_pushlstring(L, (const char *)out, (size_t)n);
  tp_crypto_cleanse(out, sizeof out);
  return 1;
}

static int l_hmac_verify(lua_State *L) {
  int alg = check_digest(L, 1), rc;
  size_t keylen, len, taglen;
  const char *key = luaL_checklstring(L, 2, &keylen);
  const char *data = luaL_checklstring(L, 3, &len);
  const char *tag = luaL_checklstring(L, 4, &taglen);
  rc = tp_crypto_hmac_verify(alg, key, keylen, data, len, tag, taglen);
  if (rc == TP_CRYPTO_ESHORTKEY) return raise_short_key(L, keylen, TP_CRYPTO_HMAC_MIN_KEY);
  if (rc < 0) return luaL_error(L, "hmac_verify: %s", tp_crypto_strerror(rc));
  lua_pushboolean(L, rc == 1);
  return 1;
}

static int l_equal(lua_State *L) {
  size_t alen, blen;
  const char *a = luaL_checklstring(L, 1, &alen);
  const char *b = luaL_checklstring(L, 2, &blen);
  lua_pushboolean(L, tp_crypto_equal(a, alen, b, blen));
  return 1;
}

static int l_random(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_Buffer b;
  char *out;
  luaL_argcheck(L, n >= 0 && n <= RANDOM_MAX, 1, "byte count out of range 0..16777216");
  out = luaL_buffinitsize(L, &b, (size_t)n);
  if (tp_crypto_random(out, (size_t)n) < 0) return luaL_error(L, "random: the DRBG failed");
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

static int l_create_file(lua_State *L) {
  size_t len;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  lua_Integer mode = luaL_optinteger(L, 3, 0600);
  luaL_argcheck(L, mode >= 0 && mode <= 07777, 3, "mode out of range");
  if (tp_crypto_create_file(path, data, len, (unsigned)mode) < 0) {
    int e = errno;
    lua_pushnil(L);
    lua_pushstring(L, strerror(e));
    lua_pushinteger(L, e);
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* ---------------------------------------------------------------------- */
/* Keys                                                                    */
/* ---------------------------------------------------------------------- */

/* A new, empty Key userdata on the stack (freed safely as it is). */
static tp_crypto_key *new_key(lua_State *L) {
  tp_crypto_key *k = lua_newuserdatauv(L, sizeof *k, 0);
  memset(k, 0, sizeof *k);
  luaL_setmetatable(L, KEY_MT);
  return k;
}

static tp_crypto_key *check_key(lua_State *L, int idx) {
  tp_crypto_key *k = luaL_checkudata(L, idx, KEY_MT);
  if (k->pkey == NULL) luaL_argerror(L, idx, "the key is closed");
  return k;
}

static int key_gc(lua_State *L) {
  tp_crypto_key_free(luaL_checkudata(L, 1, KEY_MT));
  return 0;
}

static int l_generate(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  int type = tp_crypto_key_type_by_name(kind), rc;
  lua_Integer bits = luaL_optinteger(L, 2, 0);
  tp_crypto_key *k;
  if (type < 0) return luaL_argerror(L, 1, lua_pushfstring(L, "unknown key kind '%s' (expected ed25519 or rsa)", kind));
  if (type == TP_CRYPTO_KEY_RSA && bits != 0
      && (bits < TP_CRYPTO_RSA_MIN_BITS || bits > TP_CRYPTO_RSA_MAX_BITS))
    return luaL_argerror(L, 2, lua_pushfstring(L, "RSA keys have %d to %d bits, got %d",
                                               TP_CRYPTO_RSA_MIN_BITS, TP_CRYPTO_RSA_MAX_BITS, (int)bits));
  k = new_key(L);
  rc = tp_crypto_key_generate(k, type, type == TP_CRYPTO_KEY_RSA ? (int)bits : 0);
  if (rc < 0) return luaL_error(L, "generate: %s", tp_crypto_strerror(rc));
  return 1;
}

/* The message for a key that did not load. */
static const char *key_refusal(lua_State *L, int rc) {
  switch (rc) {
  case TP_CRYPTO_EFORMAT:
    return "not a PEM key (expected PRIVATE KEY, PUBLIC KEY, RSA PRIVATE KEY or RSA PUBLIC KEY)";
  case TP_CRYPTO_EKEYSIZE:
    return lua_pushfstring(L, "RSA key refused: %d to %d bits are accepted",
                           TP_CRYPTO_RSA_MIN_BITS, TP_CRYPTO_RSA_MAX_BITS);
  default:
    return tp_crypto_strerror(rc);
  }
}

static int l_load_key(lua_State *L) {
  size_t len;
  const char *pem = luaL_checklstring(L, 1, &len);
  int public_only = opt_flag(L, 2, "public"), rc;
  tp_crypto_key *k = new_key(L);
  rc = tp_crypto_key_load_pem(k, pem, len, public_only);
  if (rc < 0) return fail(L, key_refusal(L, rc));
  return 1;
}

static int key_type(lua_State *L) {
  lua_pushstring(L, tp_crypto_key_type_name(check_key(L, 1)->type));
  return 1;
}

static int key_bits(lua_State *L) {
  lua_pushinteger(L, check_key(L, 1)->bits);
  return 1;
}

static int key_is_private(lua_State *L) {
  lua_pushboolean(L, check_key(L, 1)->is_private);
  return 1;
}

static int key_id(lua_State *L) {
  unsigned char id[32];
  int rc = tp_crypto_key_id(check_key(L, 1), id);
  if (rc < 0) return luaL_error(L, "key_id: %s", tp_crypto_strerror(rc));
  push_id(L, id);
  return 1;
}

static int key_public_pem(lua_State *L) {
  char *pem;
  size_t len;
  int rc = tp_crypto_key_public_pem(check_key(L, 1), &pem, &len);
  if (rc < 0) return luaL_error(L, "public_pem: %s", tp_crypto_strerror(rc));
  lua_pushlstring(L, pem, len);
  OPENSSL_free(pem);
  return 1;
}

static int key_private_pem(lua_State *L) {
  tp_crypto_key *k = check_key(L, 1);
  char *pem;
  size_t len;
  int rc;
  if (!k->is_private) return luaL_error(L, "private_pem: this is a public key");
  rc = tp_crypto_key_private_pem(k, &pem, &len);
  if (rc < 0) return luaL_error(L, "private_pem: %s", tp_crypto_strerror(rc));
  lua_pushlstring(L, pem, len);
  OPENSSL_clear_free(pem, len);
  return 1;
}

/* The signature algorithm at idx, checked against k: unknown names and
** misfits raise InvalidSignatureError (the name may come from an
** envelope, so this is not a programming error). */
static int check_sig_alg(lua_State *L, int idx, const tp_crypto_key *k) {
  const char *name = luaL_checkstring(L, idx);
  int alg = tp_crypto_sig_by_name(name);
  if (alg < 0) {
    lua_pushfstring(L, "unknown signature algorithm '%s' (expected ED25519, RSA_SHA256 or RSA_PSS_SHA256)", name);
    return raise_reason(L, "InvalidSignatureError", "unknown algorithm", lua_tostring(L, -1));
  }
  if (tp_crypto_key_fits(k, alg) < 0) {
    lua_pushfstring(L, "wrong algorithm for an %s key: %s (use %s)", tp_crypto_key_type_name(k->type),
                    tp_crypto_sig_name(alg),
                    k->type == TP_CRYPTO_KEY_ED25519 ? "ED25519" : "RSA_SHA256 or RSA_PSS_SHA256");
    return raise_reason(L, "InvalidSignatureError", "wrong algorithm", lua_tostring(L, -1));
  }
  return alg;
}

static int key_sign(lua_State *L) {
  tp_crypto_key *k = check_key(L, 1);
  int alg = check_sig_alg(L, 2, k), rc;
  size_t len, siglen;
  const char *data = luaL_checklstring(L, 3, &len);
  unsigned char sig[TP_CRYPTO_MAX_SIG];
  if (!k->is_private)
    return tpL_raisef(L, "SignatureError", 0, "cannot sign with a public key: load the private key");
  rc = tp_crypto_key_sign(k, alg, data, len, sig, &siglen);
  if (rc < 0) return luaL_error(L, "sign: %s", tp_crypto_strerror(rc));
  lua_pushlstring(L, (const char *)sig, siglen);
  return 1;
}

static int key_verify(lua_State *L) {
  tp_crypto_key *k = check_key(L, 1);
  int alg = check_sig_alg(L, 2, k), rc;
  size_t len, siglen;
  const char *data = luaL_checklstring(L, 3, &len);
  const char *sig = luaL_checklstring(L, 4, &siglen);
  rc = tp_crypto_key_verify(k, alg, data, len, sig, siglen);
  /* Any failure to verify is a false verdict, never an exception. */
  lua_pushboolean(L, rc == 1);
  return 1;
}

static int key_tostring(lua_State *L) {
  tp_crypto_key *k = luaL_checkudata(L, 1, KEY_MT);
  if (k->pkey == NULL) lua_pushfstring(L, "crypto.Key (closed): %p", (void *)k);
  else lua_pushfstring(L, "crypto.Key (%s %d bits, %s): %p", tp_crypto_key_type_name(k->type),
                       k->bits, k->is_private ? "private" : "public", (void *)k);
  return 1;
}

static const luaL_Reg key_methods[] = {
  {"type", key_type},
  {"bits", key_bits},
  {"is_private", key_is_private},
  {"key_id", key_id},
  {"public_pem", key_public_pem},
  {"private_pem", key_private_pem},
  {"sign", key_sign},
  {"verify", key_verify},
  {"close", key_gc},
  {NULL, NULL}
};

/* ---------------------------------------------------------------------- */
/* Certificates                                                            */
/* ---------------------------------------------------------------------- */

static l_cert *new_cert(lua_State *L) {
  l_cert *c = lua_newuserdatauv(L, sizeof *c, 0);
  c->x = NULL;
  luaL_setmetatable(L, CERT_MT);
  return c;
}

static X509 *check_cert(lua_State *L, int idx) {
  l_cert *c = luaL_checkudata(L, idx, CERT_MT);
  if (c->x == NULL) luaL_argerror(L, idx, "the certificate is closed");
  return c->x;
}

static int cert_gc(lua_State *L) {
  l_cert *c = luaL_checkudata(L, 1, CERT_MT);
  X509_free(c->x);
  c->x = NULL;
  return 0;
}

static int l_load_certificate(lua_State *L) {
  size_t len;
  const char *data = luaL_checklstring(L, 1, &len);
  l_cert *c = new_cert(L);
  if (tp_crypto_cert_load(&c->x, data, len) < 0)
    return fail(L, "not a certificate (expected PEM \"CERTIFICATE\" text or DER bytes)");
  return 1;
}

static int cert_id(lua_State *L) {
  unsigned char id[32];
  int rc = tp_crypto_cert_id(check_cert(L, 1), id);
  if (rc < 0) return luaL_error(L, "id: %s", tp_crypto_strerror(rc));
  push_id(L, id);
  return 1;
}

static int cert_der(lua_State *L) {
  unsigned char *der;
  size_t len;
  int rc = tp_crypto_cert_der(check_cert(L, 1), &der, &len);
  if (rc < 0) return luaL_error(L, "der: %s", tp_crypto_strerror(rc));
  lua_pushlstring(L, (const char *)der, len);
  OPENSSL_free(der);
  return 1;
}

static int cert_pem(lua_State *L) {
  char *pem;
  size_t len;
  int rc = tp_crypto_cert_pem(check_cert(L, 1), &pem, &len);
  if (rc < 0) return luaL_error(L, "pem: %s", tp_crypto_strerror(rc));
  lua_pushlstring(L, pem, len);
  OPENSSL_free(pem);
  return 1;
}

static int push_name(lua_State *L, const X509_NAME *name) {
  char *s = tp_crypto_name_text(name);
  if (s == NULL) return luaL_error(L, "cannot print a certificate name");
  lua_pushstring(L, s);
  OPENSSL_free(s);
  return 1;
}

static int cert_subject(lua_State *L) { return push_name(L, X509_get_subject_name(check_cert(L, 1))); }
static int cert_issuer(lua_State *L) { return push_name(L, X509_get_issuer_name(check_cert(L, 1))); }

static int cert_time(lua_State *L, int after) {
  int64_t nb, na;
  if (tp_crypto_cert_validity(check_cert(L, 1), &nb, &na) < 0)
    return luaL_error(L, "the certificate has an unreadable validity time");
  lua_pushinteger(L, (lua_Integer)(after ? na : nb));
  return 1;
}

static int cert_not_before(lua_State *L) { return cert_time(L, 0); }
static int cert_not_after(lua_State *L) { return cert_time(L, 1); }

static int cert_is_ca(lua_State *L) {
  lua_pushboolean(L, tp_crypto_cert_is_ca(check_cert(L, 1)));
  return 1;
}

/* Names of the key usages set; a second result says whether the
** certificate has the extension at all (absent means unrestricted). */
static int cert_key_usage(lua_State *L) {
  uint32_t bits, bit;
  int present = tp_crypto_cert_key_usage(check_cert(L, 1), &bits), n = 0;
  const char *name;
  size_t i;
  lua_newtable(L);
  for (i = 0; (name = tp_crypto_ku_name(i, &bit)) != NULL; i++) {
    if (!(bits & bit)) continue;
    lua_pushstring(L, name);
    lua_rawseti(L, -2, ++n);
  }
  lua_pushboolean(L, present);
  return 2;
}

static int cert_serial(lua_State *L) {
  const ASN1_INTEGER *serial = X509_get0_serialNumber(check_cert(L, 1));
  BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  size_t i;
  BN_free(bn);
  if (hex == NULL) return luaL_error(L, "serial: cannot read the serial number");
  for (i = 0; hex[i]; i++) hex[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] + 32 : hex[i]);
  lua_pushstring(L, hex);
  OPENSSL_free(hex);
  return 1;
}

static int cert_public_key(lua_State *L) {
  X509 *x = check_cert(L, 1);
  tp_crypto_key *k = new_key(L);
  int rc = tp_crypto_cert_public_key(x, k);
  if (rc < 0) return fail(L, key_refusal(L, rc));
  return 1;
}

static int cert_eq(lua_State *L) {
  lua_pushboolean(L, X509_cmp(check_cert(L, 1), check_cert(L, 2)) == 0);
  return 1;
}

static int cert_tostring(lua_State *L) {
  l_cert *c = luaL_checkudata(L, 1, CERT_MT);
  char *s = c->x ? tp_crypto_name_text(X509_get_subject_name(c->x)) : NULL;
  lua_pushfstring(L, "crypto.Certificate (%s): %p", c->x ? (s ? s : "?") : "closed", (void *)c);
  OPENSSL_free(s);
  return 1;
}

static const luaL_Reg cert_methods[] = {
  {"id", cert_id},
  {"der", cert_der},
  {"pem", cert_pem},
  {"subject", cert_subject},
  {"issuer", cert_issuer},
  {"not_before", cert_not_before},
  {"not_after", cert_not_after},
  {"is_ca", cert_is_ca},
  {"key_usage", cert_key_usage},
  {"serial", cert_serial},
  {"public_key", cert_public_key},
  {"close", cert_gc},
  {NULL, NULL}
};

/* ---------------------------------------------------------------------- */
/* Making certificates                                                     */
/* ---------------------------------------------------------------------- */

/* Key usage names in the array at idx -> bits. */
static uint32_t check_key_usage(lua_State *L, int idx) {
  uint32_t bits = 0, bit;
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, idx);
  for (i = 1; i <= n; i++) {
    const char *want, *name;
    size_t j;
    lua_rawgeti(L, idx, i);
    want = lua_tostring(L, -1);
    for (j = 0; want && (name = tp_crypto_ku_name(j, &bit)) != NULL; j++)
      if (strcmp(name, want) == 0) break;
    if (want == NULL || name == NULL)
      luaL_error(L, "make_certificate: unknown key usage '%s' (expected RFC 5280 names: digitalSignature, keyCertSign, ...)",
                 want ? want : luaL_typename(L, -1));
    bits |= bit;
    lua_pop(L, 1);
  }
  return bits;
}

/* Extended key usage names in the array at idx -> "a,b" on the stack.
** Names are OpenSSL short names (codeSigning, serverAuth...): letters and
** digits only, so the text cannot say anything else to OpenSSL's parser. */
static const char *check_eku(lua_State *L, int idx) {
  luaL_Buffer b;
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, idx);
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    size_t len, j;
    const char *s;
    lua_rawgeti(L, idx, i);
    s = lua_tolstring(L, -1, &len);
    for (j = 0; s && j < len; j++)
      if (!((s[j] | 32) >= 'a' && (s[j] | 32) <= 'z') && !(s[j] >= '0' && s[j] <= '9')) break;
    if (s == NULL || len == 0 || j < len)
      luaL_error(L, "make_certificate: bad extended key usage name at index %d", (int)i);
    if (i > 1) luaL_addchar(&b, ',');
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

static lua_Integer field_int(lua_State *L, const char *field, lua_Integer dflt) {
  lua_Integer v;
  int isint;
  if (lua_getfield(L, 1, field) == LUA_TNIL) {
    lua_pop(L, 1);
    return dflt;
  }
  v = lua_tointegerx(L, -1, &isint);
  if (!isint) luaL_error(L, "make_certificate: %s must be an integer", field);
  lua_pop(L, 1);
  return v;
}

static int l_make_certificate(lua_State *L) {
  tp_crypto_cert_spec s;
  lua_Integer days, serial;
  char why[200];
  l_cert *c;
  int rc;
  memset(&s, 0, sizeof s);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getfield(L, 1, "subject");                                   /* 2 */
  s.subject = lua_tostring(L, 2);
  luaL_argcheck(L, lua_type(L, 2) == LUA_TSTRING, 1, "subject (a string like \"CN=name\") expected");
  lua_getfield(L, 1, "key");                                       /* 3 */
  s.key = check_key(L, 3);
  lua_getfield(L, 1, "issuer_cert");                               /* 4 */
  if (!lua_isnil(L, 4)) s.issuer_cert = check_cert(L, 4);
  lua_getfield(L, 1, "issuer_key");                                /* 5 */
  if (!lua_isnil(L, 5)) s.issuer_key = check_key(L, 5);
  luaL_argcheck(L, !s.issuer_cert || s.issuer_key, 1, "issuer_cert needs issuer_key");
  s.ca = (lua_getfield(L, 1, "ca"), lua_toboolean(L, -1));         /* 6 */
  s.not_before = field_int(L, "not_before", (lua_Integer)time(NULL));
  days = field_int(L, "days", 365);
  s.not_after = field_int(L, "not_after", s.not_before + days * 86400);
  serial = field_int(L, "serial", 0);
  luaL_argcheck(L, serial >= 0, 1, "serial must be positive");
  s.serial = (uint64_t)serial;
  if (lua_getfield(L, 1, "key_usage") == LUA_TTABLE) {             /* 7 */
    s.key_usage_set = 1;
    s.key_usage = check_key_usage(L, 7);
  } else if (lua_type(L, 7) == LUA_TBOOLEAN && !lua_toboolean(L, 7)) {
    s.key_usage_set = 1;   /* false: no key usage extension at all */
  } else {
    luaL_argcheck(L, lua_isnil(L, 7), 1, "key_usage must be a list of names or false");
  }
  if (lua_getfield(L, 1, "extended_key_usage") == LUA_TTABLE)      /* 8 */
    s.ext_key_usage = check_eku(L, 8);                             /* 9 */
  c = new_cert(L);
  rc = tp_crypto_cert_make(&c->x, &s, why, sizeof why);
  if (rc == TP_CRYPTO_EFORMAT) return luaL_error(L, "make_certificate: bad subject: %s", why);
  if (rc < 0) return luaL_error(L, "make_certificate: %s", tp_crypto_strerror(rc));
  return 1;
}

/* ---------------------------------------------------------------------- */
/* Chains                                                                  */
/* ---------------------------------------------------------------------- */

/* The certificates of the list field of the options at idx, into a
** scratch array (a userdata left on the stack). */
static X509 **cert_list(lua_State *L, int idx, const char *field, size_t *n) {
  X509 **list;
  size_t i;
  int t;
  lua_getfield(L, idx, field);
  t = lua_gettop(L);
  if (lua_isnil(L, t)) {
    *n = 0;
    lua_newuserdatauv(L, 1, 0);
    return NULL;
  }
  if (!lua_istable(L, t)) luaL_error(L, "verify_chain: %s must be a list of certificates", field);
  *n = lua_rawlen(L, t);
  list = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *list, 0);
  for (i = 0; i < *n; i++) {
    l_cert *c;
    lua_rawgeti(L, t, (lua_Integer)i + 1);
    c = luaL_testudata(L, -1, CERT_MT);
    if (c == NULL || c->x == NULL)
      luaL_error(L, "verify_chain: %s[%d] is not a certificate", field, (int)i + 1);
    list[i] = c->x;
    lua_pop(L, 1);
  }
  return list;
}

/* opts.revoked: {[id] = true} (or a list of ids) -> 32-byte ids. An entry
** that is not a certificate id is an error: a revocation silently ignored
** would fail open. */
static unsigned char *revoked_ids(lua_State *L, int idx, size_t *n) {
  unsigned char *ids;
  size_t cap = 0;
  int t;
  *n = 0;
  lua_getfield(L, idx, "revoked");
  t = lua_gettop(L);
  if (lua_isnil(L, t)) {
    lua_newuserdatauv(L, 1, 0);
    return NULL;
  }
  if (!lua_istable(L, t)) luaL_error(L, "verify_chain: revoked must be a table of certificate ids");
  lua_pushnil(L);
  while (lua_next(L, t)) { cap++; lua_pop(L, 1); }
  ids = lua_newuserdatauv(L, (cap ? cap : 1) * 32, 0);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    size_t len;
    const char *s = NULL;
    if (lua_type(L, -2) == LUA_TSTRING && lua_toboolean(L, -1)) s = lua_tolstring(L, -2, &len);
    else if (lua_type(L, -2) == LUA_TNUMBER && lua_type(L, -1) == LUA_TSTRING) s = lua_tolstring(L, -1, &len);
    else if (lua_type(L, -2) == LUA_TSTRING) { lua_pop(L, 1); continue; }   /* [id] = false */
    if (s == NULL || !parse_id(s, len, ids + 32 * *n))
      luaL_error(L, "verify_chain: revoked holds '%s', which is not a certificate id (sha256:<64 hex>)",
                 s ? s : luaL_typename(L, -2));
    (*n)++;
    lua_pop(L, 1);
  }
  return ids;
}

static int opt_purpose(lua_State *L, int idx) {
  const char *p;
  int code_signing;
  lua_getfield(L, idx, "purpose");
  p = lua_tostring(L, -1);
  code_signing = p && strcmp(p, "code_signing") == 0;
  if (!lua_isnil(L, -1) && !code_signing)
    luaL_error(L, "verify_chain: unknown purpose '%s' (expected \"code_signing\" or nil)", p ? p : "?");
  lua_pop(L, 1);
  return code_signing;
}

/* After the check: what is pushed comes from copies, so that no OpenSSL
** object is held while Lua may raise a memory error. */
typedef struct chain_out {
  int code, depth, nchain;
  unsigned char ids[CHAIN_MAX][32];
  unsigned char failing[32];
  int has_failing;
  char reason[512];
  char subject[200];
} chain_out;

static void chain_copy(const tp_crypto_chain_result *r, chain_out *out) {
  int i;
  out->code = r->code;
  out->depth = r->depth;
  out->nchain = 0;
  memcpy(out->reason, r->reason, sizeof out->reason);
  out->subject[0] = '\0';
  out->has_failing = r->cert && tp_crypto_cert_id(r->cert, out->failing) == 0;
  if (r->cert) {
    char *s = tp_crypto_name_text(X509_get_subject_name(r->cert));
    if (s) snprintf(out->subject, sizeof out->subject, "%s", s);
    OPENSSL_free(s);
  }
  if (r->code != TP_CRYPTO_CHAIN_OK) return;
  for (i = 0; r->chain && i < sk_X509_num(r->chain) && i < CHAIN_MAX; i++)
    if (tp_crypto_cert_id(sk_X509_value(r->chain, i), out->ids[out->nchain]) == 0) out->nchain++;
}

static int l_verify_chain(lua_State *L) {
  X509 *leaf = check_cert(L, 1);
  tp_crypto_chain_opts o;
  tp_crypto_chain_result r;
  chain_out *out;
  int rc, i;
  memset(&o, 0, sizeof o);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  o.trusted = cert_list(L, 2, "trusted", &o.ntrusted);
  o.untrusted = cert_list(L, 2, "untrusted", &o.nuntrusted);
  o.revoked = revoked_ids(L, 2, &o.nrevoked);
  o.code_signing = opt_purpose(L, 2);
  lua_getfield(L, 2, "at");
  if (lua_isnil(L, -1)) o.at = (int64_t)time(NULL);
  else {
    int isint;
    o.at = (int64_t)lua_tointegerx(L, -1, &isint);
    if (!isint) luaL_error(L, "verify_chain: at must be an integer (Unix seconds)");
  }
  out = lua_newuserdatauv(L, sizeof *out, 0);
  rc = tp_crypto_chain_verify(leaf, &o, &r);
  if (rc < 0) return luaL_error(L, "verify_chain: %s", tp_crypto_strerror(rc));
  chain_copy(&r, out);
  tp_crypto_chain_result_free(&r);
  if (out->code == TP_CRYPTO_CHAIN_OK) {
    lua_pushboolean(L, 1);
    lua_createtable(L, out->nchain, 0);
    for (i = 0; i < out->nchain; i++) {
      push_id(L, out->ids[i]);
      lua_rawseti(L, -2, i + 1);
    }
    return 2;
  }
  lua_pushboolean(L, 0);
  lua_pushstring(L, out->reason);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, tp_crypto_chain_code_name(out->code));
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, out->depth);
  lua_setfield(L, -2, "depth");
  lua_pushstring(L, out->subject);
  lua_setfield(L, -2, "subject");
  if (out->has_failing) {
    push_id(L, out->failing);
    lua_setfield(L, -2, "certificate");
  }
  return 3;
}

/* ---------------------------------------------------------------------- */
/* Opening                                                                 */
/* ---------------------------------------------------------------------- */

static const luaL_Reg crypto_funcs[] = {
  {"digest", l_digest},
  {"hex", l_hex},
  {"unhex", l_unhex},
  {"base64", l_base64},
  {"unbase64", l_unbase64},
  {"hmac", l_hmac},
  {"hmac_verify", l_hmac_verify},
  {"equal", l_equal},
  {"random", l_random},
  {"generate", l_generate},
  {"load_key", l_load_key},
  {"load_certificate", l_load_certificate},
  {"make_certificate", l_make_certificate},
  {"verify_chain", l_verify_chain},
  {"create_file", l_create_file},
  {NULL, NULL}
};

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      lua_CFunction gc, lua_CFunction tostring) {
  luaL_newmetatable(L, name);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
}

void tpL_open_crypto(lua_State *L) {
  new_class(L, KEY_MT, key_methods, key_gc, key_tostring);
  new_class(L, CERT_MT, cert_methods, cert_gc, cert_tostring);
  luaL_getmetatable(L, CERT_MT);
  lua_pushcfunction(L, cert_eq);
  lua_setfield(L, -2, "__eq");
  lua_pop(L, 1);
  luaL_newlib(L, crypto_funcs);
  lua_setfield(L, -2, "crypto");
}
