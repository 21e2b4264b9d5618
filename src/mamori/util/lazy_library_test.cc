#include "mamori/util/lazy_library.h"

#include "mamori/util/lazy_libraries.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <latch>
#include <string>
#include <thread>
#include <vector>

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

// A constructor that returns null only when out of memory (PQconnectdb,
// mysql_init) returns null too when its library is missing: say which.
TEST(LazyLibrary, UnavailableNamesTheMissingLibraryInsteadOfMemory) {
  EXPECT_EQ(mamori_absent_function(1), -1);
  EXPECT_NE(Unavailable(Missing(), "out of memory").find("libmamori-absent.so.0 cannot be loaded"),
            std::string::npos);
  LazyLibrary z("libz.so.1");
  ASSERT_NE(z.Symbol("zlibVersion"), nullptr);
  EXPECT_EQ(Unavailable(z, "out of memory"), "out of memory");
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

// A copy of zlib that appears in a fresh directory after the first use (the
// package installed later, or descriptors back after a shortage).
struct LateLibrary {
  LateLibrary() {
    char tmpl[] = "/tmp/mamori-lazy-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) dir = tmpl;
    path = dir + "/libz-copy.so.1";
  }
  ~LateLibrary() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  bool Install() {
    std::error_code ec;
    std::filesystem::copy_file(std::filesystem::canonical("/lib/x86_64-linux-gnu/libz.so.1", ec),
                               path, ec);
    return !ec;
  }
  std::string dir, path;
};

TEST(LazyLibrary, AFailedOpenIsTriedAgainLater) {
  LateLibrary late;
  LazyLibrary lib(late.path.c_str(), std::chrono::seconds(0));
  EXPECT_EQ(lib.Symbol("zlibVersion"), nullptr);
  const std::string first = lib.Error();
  EXPECT_NE(first.find("cannot be loaded"), std::string::npos) << first;
  ASSERT_TRUE(late.Install());
  EXPECT_NE(lib.Symbol("zlibVersion"), nullptr);
  EXPECT_EQ(std::string(lib.Error()), first);  // the first failure's words stay valid
}

TEST(LazyLibrary, AFailedOpenWaitsForItsIntervalBeforeTheNextTry) {
  LateLibrary late;
  LazyLibrary lib(late.path.c_str(), std::chrono::hours(1));
  EXPECT_EQ(lib.Symbol("zlibVersion"), nullptr);
  ASSERT_TRUE(late.Install());
  EXPECT_EQ(lib.Symbol("zlibVersion"), nullptr);  // tried a moment ago: not yet
}

// Checks that share a family start together: many threads may make the
// first call at the same moment. A copy of zlib the process has not loaded
// yet makes the open slow enough for the callers to meet inside it; each must
// get the one symbol, none the failure value.
TEST(LazyLibrary, ThreadsMakingTheFirstCallTogetherAllGetTheSymbol) {
  LateLibrary late;
  ASSERT_TRUE(late.Install());
  LazyLibrary lib(late.path.c_str(), std::chrono::hours(1));
  constexpr int kThreads = 16;
  std::latch start(kThreads);
  std::vector<void*> found(kThreads, nullptr);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kThreads; ++i)
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        found[i] = lib.Symbol("zlibVersion");
      });
  }
  ASSERT_NE(found[0], nullptr) << lib.Error();
  for (void* sym : found) EXPECT_EQ(sym, found[0]);
  EXPECT_TRUE(lib.Loaded());
  EXPECT_STREQ(lib.Error(), "");
}

}  // namespace
}  // namespace mamori::util
