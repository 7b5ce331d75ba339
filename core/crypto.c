/*
** crypto.c: digests, HMAC, comparison, random bytes, hex and base64, and
** key-file creation (see crypto.h, docs/crypto.md).
**
** Everything is one-shot EVP calls; nothing is kept between calls.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"

static const char *const errors_text[] = {
  "",
  "invalid argument",
  "out of memory",
  "malformed input",
  "unsupported key type (Ed25519 and RSA are supported)",
  "RSA key size outside 2048..16384 bits",
  "wrong signature algorithm for this key",
  "a public key cannot sign",
  "HMAC key too short",
  "the private key is protected by a passphrase (not supported)",
  "OpenSSL failed",
  "system call failed",
};

const char *tp_crypto_strerror(int code) {
  if (code >= 0 || -code >= (int)(sizeof errors_text / sizeof *errors_text)) return "unknown error";
  return errors_text[-code];
}

void tp_crypto_clear_errors(void) { ERR_clear_error(); }

void tp_crypto_cleanse(void *p, size_t n) {
  if (p != NULL && n > 0) OPENSSL_cleanse(p, n);
}

/* ---------------------------------------------------------------------- */
/* Algorithms                                                              */
/* ---------------------------------------------------------------------- */

/* EVP_sha256() and EVP_sha512() are fetched implicitly on each use, from
** OpenSSL's own method cache: holding fetched objects in statics of ours
** would outlive OpenSSL's cleanup at exit, and leak when core.so is
** unloaded (lua_close), which the sanitizer builds report. */
static const EVP_MD *digest_md(int alg) {
  return alg == TP_CRYPTO_SHA256 ? EVP_sha256() : alg == TP_CRYPTO_SHA512 ? EVP_sha512() : NULL;
}

/* OpenSSL's name of the digest, as an HMAC parameter wants it. */
static const char *digest_param(int alg) {
  return alg == TP_CRYPTO_SHA256 ? "SHA2-256" : "SHA2-512";
}

int tp_crypto_digest_by_name(const char *name) {
  if (name == NULL) return TP_CRYPTO_EINVAL;
  if (strcasecmp(name, "sha256") == 0) return TP_CRYPTO_SHA256;
  if (strcasecmp(name, "sha512") == 0) return TP_CRYPTO_SHA512;
  return TP_CRYPTO_EINVAL;
}

size_t tp_crypto_digest_size(int alg) {
  return alg == TP_CRYPTO_SHA256 ? 32 : alg == TP_CRYPTO_SHA512 ? 64 : 0;
}

/* ---------------------------------------------------------------------- */
/* Digests and HMAC                                                        */
/* ---------------------------------------------------------------------- */

int tp_crypto_digest(int alg, const void *data, size_t len, unsigned char *out) {
  const EVP_MD *md = digest_md(alg);
  unsigned int n = 0;
  if (md == NULL) return TP_CRYPTO_EINVAL;
  if (!EVP_Digest(len ? data : "", len, out, &n, md, NULL)) {
    ERR_clear_error();
    return TP_CRYPTO_EOPENSSL;
  }
  return (int)n;
}

int tp_crypto_hmac(int alg, const void *key, size_t keylen, size_t min_key,
                   const void *data, size_t len, unsigned char *out) {
  size_t size = tp_crypto_digest_size(alg), n = 0;
  if (size == 0) return TP_CRYPTO_EINVAL;
  if (keylen < min_key) return TP_CRYPTO_ESHORTKEY;
  /* A NULL key would mean "keep the previous key": an empty one is "".
  ** EVP_Q_mac frees its context, which clears the keyed state. */
  if (EVP_Q_mac(NULL, "HMAC", NULL, digest_param(alg), NULL, keylen ? key : (const void *)"", keylen,
                len ? data : (const void *)"", len, out, size, &n) == NULL || n != size) {
    ERR_clear_error();
    return TP_CRYPTO_EOPENSSL;
  }
  return (int)n;
}

int tp_crypto_hmac_verify(int alg, const void *key, size_t keylen,
                          const void *data, size_t len,
                          const void *tag, size_t taglen) {
  unsigned char mac[TP_CRYPTO_MAX_DIGEST];
  int n = tp_crypto_hmac(alg, key, keylen, TP_CRYPTO_HMAC_MIN_KEY, data, len, mac);
  int same;
  if (n < 0) return n;
  /* The length of a tag is public; only its contents must not leak. */
  same = tp_crypto_equal(mac, (size_t)n, tag, taglen);
  OPENSSL_cleanse(mac, sizeof mac);
  return same;
}

int tp_crypto_equal(const void *a, size_t alen, const void *b, size_t blen) {
  if (alen != blen) return 0;
  if (alen == 0) return 1;
  return CRYPTO_memcmp(a, b, alen) == 0;
}

int tp_crypto_random(void *out, size_t n) {
  unsigned char *p = out;
  while (n > 0) {   /* RAND_bytes takes an int */
    int chunk = n > (1u << 30) ? 1 << 30 : (int)n;
    if (RAND_bytes(p, chunk) != 1) {
      ERR_clear_error();
      return TP_CRYPTO_EOPENSSL;
    }
    p += chunk;
    n -= (size_t)chunk;
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Hex and base64                                                          */
/* ---------------------------------------------------------------------- */

void tp_crypto_hex_encode(const void *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  const unsigned char *p = in;
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int tp_crypto_hex_decode(const char *in, size_t n, unsigned char *out, size_t *pos) {
  size_t i;
  for (i = 0; i + 1 < n; i += 2) {
    int hi = hex_value((unsigned char)in[i]), lo = hex_value((unsigned char)in[i + 1]);
    if (hi < 0 || lo < 0) {
      *pos = hi < 0 ? i : i + 1;
      return TP_CRYPTO_EFORMAT;
    }
    out[i / 2] = (unsigned char)(hi << 4 | lo);
  }
  if (n % 2) {   /* report a bad last character before the odd length */
    *pos = hex_value((unsigned char)in[n - 1]) < 0 ? n - 1 : n;
    return TP_CRYPTO_EFORMAT;
  }
  return 0;
}

static const char b64_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t tp_crypto_base64_size(size_t n) { return (n + 2) / 3 * 4; }

void tp_crypto_base64_encode(const void *in, size_t n, char *out) {
  const unsigned char *p = in;
  size_t i, o = 0;
  for (i = 0; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    out[o++] = b64_alphabet[v >> 18];
    out[o++] = b64_alphabet[(v >> 12) & 63];
    out[o++] = b64_alphabet[(v >> 6) & 63];
    out[o++] = b64_alphabet[v & 63];
  }
  if (n - i == 1) {
    out[o++] = b64_alphabet[p[i] >> 2];
    out[o++] = b64_alphabet[(p[i] & 3) << 4];
    out[o++] = '=';
    out[o++] = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];
    out[o++] = b64_alphabet[v >> 10];
    out[o++] = b64_alphabet[(v >> 4) & 63];
    out[o++] = b64_alphabet[(v & 15) << 2];
    out[o++] = '=';
  }
}

static int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int tp_crypto_base64_decode(const char *in, size_t n, unsigned char *out,
                            size_t *outlen, size_t *pos) {
  size_t i, o = 0, pad = 0;
  if (n % 4) {
    *pos = n;
    return TP_CRYPTO_EFORMAT;
  }
  /* Padding: one or two '=' at the very end, nowhere else. */
  if (n >= 4 && in[n - 1] == '=') pad = in[n - 2] == '=' ? 2 : 1;
  for (i = 0; i < n; i += 4) {
    int v[4], k, last = i + 4 == n;
    for (k = 0; k < 4; k++) {
      v[k] = (last && k >= 4 - (int)pad) ? 0 : b64_value((unsigned char)in[i + k]);
      if (v[k] < 0) {
        *pos = i + (size_t)k;
        return TP_CRYPTO_EFORMAT;
      }
    }
    /* Bits that the padding leaves unused must be zero (canonical form). */
    if (last && ((pad == 2 && (v[1] & 15)) || (pad == 1 && (v[2] & 3)))) {
      *pos = n - pad - 1;
      return TP_CRYPTO_EFORMAT;
    }
    out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
    if (!(last && pad == 2)) out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
    if (!(last && pad >= 1)) out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
  }
  *outlen = o;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Key files                                                               */
/* ---------------------------------------------------------------------- */

static int write_all(int fd, const unsigned char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* fsync the directory holding path, so that the new name is durable too. */
static int sync_parent(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir;
  int fd, rc;
  if (slash == NULL) dir = strdup(".");
  else if (slash == path) dir = strdup("/");
  else dir = strndup(path, (size_t)(slash - path));
  if (dir == NULL) return -1;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(dir);
  if (fd < 0) return -1;
  rc = fsync(fd);
  close(fd);
  return rc;
}

int tp_crypto_create_file(const char *path, const void *data, size_t len,
                          unsigned mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
  int saved;
  if (fd < 0) return TP_CRYPTO_EIO;
  if (write_all(fd, data, len) == 0 && fsync(fd) == 0) {
    if (close(fd) == 0 && sync_parent(path) == 0) return 0;
    fd = -1;
  }
  saved = errno;
  if (fd >= 0) close(fd);
  unlink(path);
  errno = saved;
  return TP_CRYPTO_EIO;
}
