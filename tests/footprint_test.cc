// The footprint promise "nothing is loaded that the configuration does not
// use", checked on the real binary: the heavy libraries (Hyperscan,
// libarchive, libpq, libmariadb, libsystemd, libcurl) are not NEEDED by it, a
// daemon running http checks against a real nginx never maps the first five
// (nor what they pull in: ICU, libxml2, libgcrypt), one running only file and disk checks
// does not map libcurl either (nor GnuTLS, librtmp, libssh2, libldap), and
// the verbs that need one load it and work. And what each
// configured check costs in anonymous memory stays under a bound.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "mamori_binary_path.h"
#include "mamori_source_dir.h"
#include "testing/cli.h"
#include "testing/nginx.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using testing::TempDir;

// Libraries (file name prefixes) a configuration without log, backup or
// database checks has no use for.
constexpr std::array<const char*, 8> kHeavy = {"libhs.",      "libarchive.", "libpq.",
                                               "libmariadb.", "libicuuc.",   "libxml2.",
                                               "libsystemd.", "libgcrypt."};

std::string CommandOutput(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(command.c_str(), "r"), pclose);
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
  return out;
}

// libcurl and what Debian's libcurl pulls in: only http(s) checks, webhooks,
// email and heartbeat pings need them; libcrypto also SHA-256 (backups, the
// log scanner's cache, tokens).
constexpr std::array<const char*, 7> kCurl = {"libcurl.", "libgnutls.",  "librtmp.",  "libssh2.",
                                              "libldap-", "libnghttp2.", "libcrypto."};

// The lines of `text` naming one of `libs`.
template <size_t N>
std::string Mentions(const std::string& text, const std::array<const char*, N>& libs) {
  std::string found;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    for (const char* lib : libs)
      if (line.find(std::string("/") + lib) != std::string::npos ||
          line.find(std::string(" ") + lib) != std::string::npos ||
          line.find(std::string("[") + lib) != std::string::npos)
        found += line + "\n";
    start = end + 1;
  }
  return found;
}

std::string HeavyMentions(const std::string& text) { return Mentions(text, kHeavy); }

TEST(Footprint, HeavyLibrariesAreNotNeededByTheBinary) {
  const std::string dynamic = CommandOutput(fmt::format("objdump -p '{}'", MAMORI_BINARY));
  ASSERT_NE(dynamic.find("NEEDED"), std::string::npos) << "objdump -p printed no NEEDED entry";
  EXPECT_EQ(HeavyMentions(dynamic), "");
  EXPECT_EQ(Mentions(dynamic, kCurl), "");
}

// cmake/mamori.order (scripts/text_order.py) names the functions a running
// daemon uses; the linker must have put them together at the start of
// .text, where the daemon's page faults map them in a few 64 KiB runs
// instead of all over the binary. A stale list (most names gone after a
// refactoring) fails here too: re-run scripts/text_order.py.
TEST(Footprint, TheDaemonsFunctionsInUseAreLaidOutTogether) {
  if (!MAMORI_TEXT_ORDERED)
    GTEST_SKIP() << "linked without lld, so without the text order (see CMakeLists.txt)";
  std::set<std::string> ordered;
  {
    std::istringstream in(
        testing::ReadFile(std::string(MAMORI_SOURCE_DIR) + "/cmake/mamori.order"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) ordered.insert(line);
  }
  ASSERT_GT(ordered.size(), 500u);
  // nm -S: "address size type name" for each function of the binary (t,
  // T; W for inline functions and templates).
  std::istringstream nm(CommandOutput(fmt::format("nm -S --defined-only '{}'", MAMORI_BINARY)));
  uint64_t text_start = UINT64_MAX, ordered_end = 0, ordered_bytes = 0;
  std::set<std::string> found;
  for (std::string line; std::getline(nm, line);) {
    std::istringstream fields(line);
    std::string address, size, type, name;
    if (!(fields >> address >> size >> type >> name) || (type != "t" && type != "T" && type != "W"))
      continue;
    const uint64_t at = std::stoull(address, nullptr, 16), bytes = std::stoull(size, nullptr, 16);
    text_start = std::min(text_start, at);
    if (ordered.count(name) == 0) continue;
    found.insert(name);
    ordered_bytes += bytes;
    ordered_end = std::max(ordered_end, at + bytes);
  }
  EXPECT_GT(found.size(), ordered.size() / 2) << "most names of cmake/mamori.order are gone";
  // Together: their span is their own size plus alignment padding, not the
  // megabytes of the whole .text.
  EXPECT_LT(ordered_end - text_start, ordered_bytes + ordered_bytes / 4 + 64 * 1024)
      << ordered_bytes << " bytes of ordered functions";
}

TEST(Footprint, DaemonWithHttpChecksMapsNoHeavyLibraryNorCurl) {
  std::string error;
  auto nginx = testing::NginxServer::Start({}, &error);
  ASSERT_TRUE(nginx) << error;
  TempDir dir;
  std::string checks;
  for (int i = 0; i < 20; ++i)
    checks += fmt::format("  - {{name: web{}, type: http, url: '{}', interval: 1s, timeout: 1s}}\n",
                          i, nginx->Url());
  const std::string config =
      dir.Write("mamori.yaml", fmt::format("data_dir: {}/data\nchecks:\n{}", dir.path(), checks));
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/log");
  ASSERT_TRUE(daemon.WaitForLog(" running ")) << daemon.Log();
  // Checks have run (nginx saw them) before the maps are read.
  ASSERT_TRUE(
      testing::Eventually([&] { return nginx->AccessCount() >= 40; }, std::chrono::seconds(20)))
      << nginx->AccessCount() << " requests\n"
      << daemon.Log();
  const std::string maps = testing::ReadFile(fmt::format("/proc/{}/maps", daemon.pid()));
  ASSERT_NE(maps.find("libsqlite3"), std::string::npos) << maps;  // the maps are the daemon's
  EXPECT_EQ(HeavyMentions(maps), "");
  // Plain http:// to an address goes through the native client: no libcurl.
  EXPECT_EQ(Mentions(maps, kCurl), "");
  const std::string status = testing::ReadFile(fmt::format("/proc/{}/status", daemon.pid()));
  const size_t hwm = status.find("VmHWM:");
  ASSERT_NE(hwm, std::string::npos);
  std::printf("daemon with 20 http checks: %s\n",
              status.substr(hwm, status.find('\n', hwm) - hwm).c_str());
}

// RssAnon (KiB) of a running process, 0 when it cannot be read.
long RssAnonKib(pid_t pid) {
  const std::string status = testing::ReadFile(fmt::format("/proc/{}/status", pid));
  const size_t at = status.find("RssAnon:");
  return at == std::string::npos ? 0 : std::strtol(status.c_str() + at + 8, nullptr, 10);
}

// A daemon with `n` file checks (no HTTP client work, so the figure is what
// the daemon keeps per configured check), after every check has run once.
struct FileChecksDaemon {
  FileChecksDaemon(testing::TempDir& dir, const std::string& name, int n) {
    const std::string watched = dir.Write(name + "-watched", "x");
    std::string checks;
    for (int i = 0; i < n; ++i)
      checks +=
          fmt::format("  - {{name: {}{}, type: file, path: '{}', interval: 5s, timeout: 2s}}\n",
                      name, i, watched);
    const std::string data = fmt::format("{}/{}-data", dir.path(), name);
    config = dir.Write(name + ".yaml", fmt::format("data_dir: {}\nchecks:\n{}", data, checks));
    daemon = std::make_unique<testing::DaemonProcess>(std::vector<std::string>{"-c", config},
                                                      fmt::format("{}/{}.log", dir.path(), name));
  }
  // Every check has reported its first result (one "PENDING -> OK" line each).
  bool AllRan(int n) const {
    const std::string log = daemon->Log();
    int seen = 0;
    for (size_t at = log.find("PENDING -> OK"); at != std::string::npos;
         at = log.find("PENDING -> OK", at + 1))
      ++seen;
    return seen >= n;
  }
  std::string config;
  std::unique_ptr<testing::DaemonProcess> daemon;
};

// What the daemon holds per configured check, in anonymous memory: the
// slope of RssAnon between a daemon with 2,000 file checks and one with
// 10,000, both after every check has run once (from 2,000 on, the bounded
// caches, such as SQLite's, are full, so the slope is what each check adds).
// Measured on a 2-vCPU Debian 12 VM (other builds running): 5.32 KiB per
// check before the per-check structures were trimmed (a second copy of every
// CheckConfig, a std::deque per remedy guard, the scheduler keeping names),
// 3.48 KiB after. The bound lies between them.
TEST(Footprint, AnonymousMemoryPerCheckIsBounded) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's redzones and quarantine grow every allocation: the bound "
                  "is for the real allocator (measured 41.7 KiB per check under ASan)";
#endif
  constexpr int kFew = 2000, kMany = 10000;
  constexpr double kMaxKibPerCheck = 4.4;
  TempDir dir;
  FileChecksDaemon few(dir, "few", kFew), many(dir, "many", kMany);
  ASSERT_TRUE(testing::Eventually([&] { return few.AllRan(kFew) && many.AllRan(kMany); },
                                  std::chrono::seconds(90)))
      << few.daemon->Log().substr(0, 2000) << many.daemon->Log().substr(0, 2000);
  const long a = RssAnonKib(few.daemon->pid()), b = RssAnonKib(many.daemon->pid());
  ASSERT_GT(a, 0);
  ASSERT_GT(b, a);
  const double per_check = static_cast<double>(b - a) / (kMany - kFew);
  std::printf("RssAnon: %ld KiB with %d file checks, %ld KiB with %d: %.2f KiB per check\n", a,
              kFew, b, kMany, per_check);
  EXPECT_LT(per_check, kMaxKibPerCheck);
}

// --version names the libraries opened on demand without opening them (the
// dynamic loader's own trace lists every file it maps).
TEST(Footprint, VersionDoesNotLoadTheOnDemandLibraries) {
  const std::string trace =
      CommandOutput(fmt::format("LD_DEBUG=files '{}' --version 2>&1", MAMORI_BINARY));
  ASSERT_NE(trace.find("libsqlite3"), std::string::npos) << trace;  // the trace works
  EXPECT_EQ(HeavyMentions(trace), "");
  EXPECT_EQ(Mentions(trace, kCurl), "");
  EXPECT_NE(trace.find("loaded on demand"), std::string::npos) << trace;
}

// A verb that needs one of them loads it and works: `logs scan` compiles the
// shipped signatures with Hyperscan.
TEST(Footprint, AVerbThatNeedsHyperscanLoadsIt) {
  TempDir dir;
  const std::string log =
      dir.Write("app.log", "Out of memory: Killed process 4242 (java) total-vm:100kB\n");
  const std::string trace = CommandOutput(
      fmt::format("LD_DEBUG=files '{}' logs scan --rules @builtin '{}' 2>&1", MAMORI_BINARY, log));
  EXPECT_NE(trace.find("libhs.so"), std::string::npos) << trace;
  EXPECT_EQ(trace.find("cannot be loaded"), std::string::npos) << trace;
  EXPECT_NE(trace.find("memory.oom-killed-process"), std::string::npos) << trace;
}

// The checks that need no library of their own: libcurl stays unmapped
// after they have run (the HTTP client made at start is the native one; the
// curl client behind it is made on the first request that needs it).
TEST(Footprint, DaemonWithFileAndDiskChecksMapsNoCurl) {
  TempDir dir;
  const std::string present = dir.Write("present", "x");
  const std::string config =
      dir.Write("mamori.yaml",
                fmt::format("data_dir: {0}/data\nchecks:\n"
                            "  - {{name: here, type: file, path: '{1}', interval: 1s}}\n"
                            "  - {{name: gone, type: file, path: '{0}/absent', interval: 1s}}\n"
                            "  - {{name: root, type: disk, path: /, interval: 1s}}\n",
                            dir.path(), present));
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/log");
  ASSERT_TRUE(daemon.WaitForLog(" running ")) << daemon.Log();
  // The missing file's check has run and failed before the maps are read.
  ASSERT_TRUE(daemon.WaitForLog("gone: PENDING -> CRITICAL")) << daemon.Log();
  const std::string maps = testing::ReadFile(fmt::format("/proc/{}/maps", daemon.pid()));
  ASSERT_NE(maps.find("libsqlite3"), std::string::npos) << maps;  // the maps are the daemon's
  EXPECT_EQ(Mentions(maps, kCurl), "");
  EXPECT_EQ(HeavyMentions(maps), "");
}

// An https check (curl is what speaks TLS) loads libcurl on demand and works.
// The native client and libcurl each keep up to the in-flight figure the
// open-file limit allows, so each is given half the room: with 1,024
// descriptors (256 kept for the store, the API and logs), 384 each.
TEST(Footprint, TheTwoHttpClientsShareTheOpenFileRoom) {
  TempDir dir;
  const std::string watched = dir.Write("watched", "x");
  const std::string config =
      dir.Write("mamori.yaml",
                fmt::format("data_dir: {}/data\nchecks:\n  - {{name: f, type: file, path: '{}'}}\n",
                            dir.path(), watched));
  const std::string out = CommandOutput(fmt::format(
      "timeout -s TERM 3 prlimit --nofile=1024:1024 '{}' run -c '{}' 2>&1", MAMORI_BINARY, config));
  EXPECT_NE(out.find("allows 384 HTTP checks in flight"), std::string::npos) << out;
}

TEST(Footprint, AnHttpsCheckLoadsCurl) {
  std::string error;
  testing::NginxServer::Options tls;
  tls.tls = true;
  auto nginx = testing::NginxServer::Start(tls, &error);
  ASSERT_TRUE(nginx) << error;
  TempDir dir;
  const std::string config =
      dir.Write("mamori.yaml",
                fmt::format("checks:\n  - {{name: web, type: http, url: '{}', ca_file: '{}'}}\n",
                            nginx->Url(), nginx->cert_file()));
  const std::string trace = CommandOutput(fmt::format(
      "LD_DEBUG=files '{}' check -c '{}' 2>&1; echo \"exit=$?\"", MAMORI_BINARY, config));
  EXPECT_NE(trace.find("libcurl.so.4"), std::string::npos) << trace;
  EXPECT_EQ(trace.find("cannot be loaded"), std::string::npos) << trace;
  EXPECT_NE(trace.find("exit=0"), std::string::npos) << trace;
  // nginx logs the request after answering it.
  EXPECT_TRUE(
      testing::Eventually([&] { return nginx->AccessCount() == 1u; }, std::chrono::seconds(5)));
}

// Without libcurl (an empty file bound over it in a private mount namespace)
// the https check fails with an error that names the library (on stdout, in
// the check's result: the loader's own complaint on stderr is not counted),
// and the process does not crash.
TEST(Footprint, AMissingCurlIsNamedByTheCheckThatNeedsIt) {
  if (std::system("unshare -m true 2>/dev/null") != 0)
    GTEST_SKIP() << "unshare -m cannot make a mount namespace here (needs root)";
  TempDir dir;
  const std::string config = dir.Write(
      "mamori.yaml", "checks:\n  - {name: web, type: http, url: 'https://127.0.0.1:1/'}\n");
  const std::string out = CommandOutput(fmt::format(
      "unshare -m sh -c 'lib=$(ldconfig -p | sed -n \"s/.*libcurl.so.4 .*=> //p\" | head -n1) && "
      "mount --bind /dev/null \"$lib\" && exec \"$0\" check -c \"$1\" 2>/dev/null' '{}' '{}' 2>&1; "
      "echo \"exit=$?\"",
      MAMORI_BINARY, config));
  EXPECT_NE(out.find("libcurl.so.4 cannot be loaded"), std::string::npos) << out;
  EXPECT_NE(out.find("exit=2"), std::string::npos) << out;  // critical, not a crash
}

}  // namespace
}  // namespace mamori
