// Replay of incident 3 ("The home server after a power cut"): power came back
// at 06:06 but the server was unreachable until 17:00.
//   - the dynamic IP changed and the DDNS script was broken; the fallback was
//     a second, independent server recording the caller's address. Here a
//     watcher daemon receives the home server's heartbeats, first from
//     127.0.0.2 and then from 127.0.0.3 (real source addresses on loopback,
//     sent by curl --interface), logs the change and answers /ip;
//   - Apache did not start because of a stale mod_python mutex file
//     (/tmp/mpmtx7120) left by the unclean shutdown: a file check with
//     exists: false names it.
#include <signal.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/cli.h"
#include "testing/ports.h"

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::RunMamori;

constexpr char kUuid[] = "5b0f4a2e-8a43-4f7e-9d38-0c6a2b1d9e11";

// `curl` from a given loopback source address: what the home server's cron
// job does every 10 minutes.
std::string CurlFrom(const std::string& source, const std::string& url) {
  testing::TempDir dir;
  const std::string out = dir.path() + "/out";
  const std::string cmd = "curl -s --max-time 5 --interface " + source + " -o " + out + " " + url;
  if (std::system(cmd.c_str()) != 0) return "curl failed";
  return testing::ReadFile(out);
}

TEST(ScenarioPowerCut, SecondServerRecordsTheNewAddressAndTheStaleMutexIsNamed) {
  testing::TempDir dir;
  const int port = testing::PickFreePort();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string config =
      dir.Write("watcher.yaml", "data_dir: ./data\nlisten: 127.0.0.1:" + std::to_string(port) +
                                    "\nchecks:\n"
                                    "  - {name: home-server, type: heartbeat, uuid: " +
                                    kUuid + ", period: 10m, grace: 5m, track_ip: true}\n");
  testing::DaemonProcess watcher({"-c", config}, dir.path() + "/watcher.log");
  ASSERT_TRUE(watcher.WaitForLog("running 1 checks")) << watcher.Log();
  ASSERT_TRUE(testing::Eventually([&] { return testing::AcceptsOnLoopback(port); }, 5000ms));

  EXPECT_EQ(CurlFrom("127.0.0.2", base + "/ping/" + kUuid), "OK");
  EXPECT_EQ(CurlFrom("127.0.0.3", base + "/ping/" + kUuid), "OK");
  EXPECT_TRUE(watcher.WaitForLog("home-server now at 127.0.0.3, was 127.0.0.2")) << watcher.Log();
  // What the operator asks the second server from anywhere: "where am I?"
  EXPECT_EQ(CurlFrom("127.0.0.3", base + "/ip"), "127.0.0.3\n");
  watcher.Signal(SIGTERM);
  EXPECT_EQ(watcher.Wait(), 0) << watcher.Log();

  // The unclean shutdown left Apache's mod_python mutex behind.
  const std::string mutex = dir.Write("mpmtx7120", "");
  const std::string apache =
      dir.Write("apache.yaml", "checks:\n  - {name: apache-stale-mutex, type: file, path: \"" +
                                   dir.path() + "/mpmtx*\", exists: false}\n");
  auto r = RunMamori({"check", "-c", apache, "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 1) << r.out;
  EXPECT_NE(j[0]["summary"].get<std::string>().find(mutex), std::string::npos) << j[0].dump();
}

}  // namespace
}  // namespace mamori
