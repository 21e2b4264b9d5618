#include "mamori/util/lazy_library.h"

#include <gtest/gtest.h>

#include <string>

namespace {
mamori::util::LazyLibrary& Missing() {
  static mamori::util::LazyLibrary lib("libmamori-absent.so.0");
  return lib;
}
}  // namespace

// A forwarder in the shape util/lazy_lib*.cc define, for a library that is
// not installed: it must return its failure value, not crash.
extern "C" int mamori_absent_function(int);
MAMORI_LAZY_FUNCTION(Missing(), int, mamori_absent_function, (int a0), (a0), -1)

namespace mamori::util {
namespace {

TEST(LazyLibrary, MissingLibraryGivesTheFailureValueAndNamesTheLibrary) {
  EXPECT_EQ(mamori_absent_function(7), -1);
  EXPECT_FALSE(Missing().Loaded());
  EXPECT_NE(std::string(Missing().Error()).find("libmamori-absent.so.0 cannot be loaded"),
            std::string::npos)
      << Missing().Error();
}

TEST(LazyLibrary, RealLibraryIsOpenedOnFirstSymbol) {
  LazyLibrary z("libz.so.1");
  EXPECT_STREQ(z.Error(), "");
  using ZlibVersion = const char* (*)();
  auto fn = reinterpret_cast<ZlibVersion>(z.Symbol("zlibVersion"));
  ASSERT_NE(fn, nullptr) << z.Error();
  EXPECT_EQ(std::string(fn()).substr(0, 2), "1.");
  EXPECT_TRUE(z.Loaded());
  EXPECT_EQ(z.Symbol("no_such_function_in_zlib"), nullptr);
}

}  // namespace
}  // namespace mamori::util
