// Forwarders for the libcrypto functions mamori calls (see util/lazy_library.h):
// SHA-256 for backups, the log scanner's cache and `/metrics` tokens, and a
// constant-time compare for API tokens. Each has the signature of OpenSSL's
// header; a missing library gives the failure value beside it, and
// CRYPTO_memcmp then says "different" so a token is refused, never accepted.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "mamori/util/lazy_libraries.h"

using mamori::util::LazyLibCrypto;

MAMORI_LAZY_FUNCTION(LazyLibCrypto(), int, CRYPTO_memcmp,
                     (const void* a0, const void* a1, size_t a2), (a0, a1, a2), 1)
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), int, EVP_Digest,
                     (const void* a0, size_t a1, unsigned char* a2, unsigned int* a3,
                      const EVP_MD* a4, ENGINE* a5),
                     (a0, a1, a2, a3, a4, a5), 0)
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), int, EVP_DigestFinal_ex,
                     (EVP_MD_CTX * a0, unsigned char* a1, unsigned int* a2), (a0, a1, a2), 0)
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), int, EVP_DigestInit_ex,
                     (EVP_MD_CTX * a0, const EVP_MD* a1, ENGINE* a2), (a0, a1, a2), 0)
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), int, EVP_DigestUpdate,
                     (EVP_MD_CTX * a0, const void* a1, size_t a2), (a0, a1, a2), 0)
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), void, EVP_MD_CTX_free, (EVP_MD_CTX * a0), (a0), )
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), EVP_MD_CTX*, EVP_MD_CTX_new, (), (), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), const EVP_MD*, EVP_sha256, (), (), nullptr)
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), const char*, OpenSSL_version, (int a0), (a0), "not loaded")
MAMORI_LAZY_FUNCTION(LazyLibCrypto(), unsigned char*, SHA256,
                     (const unsigned char* a0, size_t a1, unsigned char* a2), (a0, a1, a2), nullptr)
