#include "mamori/util/lazy_libraries.h"

#include "mamori_lazy_sonames.h"

namespace mamori::util {

LazyLibrary& LazyLibPq() {
  static LazyLibrary library(MAMORI_SONAME_PQ);
  return library;
}

LazyLibrary& LazyLibMariaDb() {
  static LazyLibrary library(MAMORI_SONAME_MARIADB);
  return library;
}

LazyLibrary& LazyLibHyperscan() {
  static LazyLibrary library(MAMORI_SONAME_HS);
  return library;
}

LazyLibrary& LazyLibArchive() {
  static LazyLibrary library(MAMORI_SONAME_ARCHIVE);
  return library;
}

LazyLibrary& LazyLibCurl() {
  static LazyLibrary library(MAMORI_SONAME_CURL);
  return library;
}

LazyLibrary& LazyLibCrypto() {
  static LazyLibrary library(MAMORI_SONAME_CRYPTO);
  return library;
}

LazyLibrary& LazyLibSystemd() {
  static LazyLibrary library(MAMORI_SONAME_SYSTEMD);
  return library;
}

}  // namespace mamori::util
