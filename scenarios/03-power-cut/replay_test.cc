// Replay of incident 3 ("The home server after a power cut"): power came back
// at 06:06 but the server was unreachable until 17:00.
//   - the dynamic IP changed and the DDNS script was broken; the fallback was
//     a second, independent server recording the caller's address. Here a
//     watcher daemon receives the home server's heartbeats, first from
//     127.0.0.2 and then from 127.0.0.3 (real source addresses on loopback,
//     sent by curl --interface), logs the change and answers /ip;
//   - Apache did not start because of a stale mod_python mutex file
//     (/tmp/mpmtx7120) left by the unclean shutdown: a file check with
//     exists: false names it; `mamori run` with a remedy removes it when no
//     process has it open, and keeps one a live process holds;
//   - the day's logs (boot banner with no shutdown before it, qpopper's
//     sessions and the corrupted mail drop, mod_python's mutex failure) read
//     by `mamori diagnose`: the unclean shutdown names the last mailbox
//     written as the suspect, the mutex finding comes with its runbook.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mamori/store/store.h"
#include "mamori_source_dir.h"
#include "testing/cli.h"
#include "testing/ports.h"

extern char** environ;

namespace mamori {
namespace {

using namespace std::chrono_literals;
using testing::RunMamori;

const std::string kRules = std::string(MAMORI_SOURCE_DIR) + "/rules";
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
  ASSERT_TRUE(watcher.WaitForLog("running 1 check")) << watcher.Log();
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

// The logs of that day, as the home server wrote them (FreeBSD syslog, the
// mail log, Apache 2.2's error log), dated two days ago so the year of the
// syslog lines is unambiguous.
struct IncidentLogs {
  std::string messages, maillog, httpd;
};

IncidentLogs WriteIncidentLogs(const testing::TempDir& dir) {
  const std::time_t day = std::time(nullptr) - 2 * 24 * 3600;
  std::tm tm{};
  localtime_r(&day, &tm);
  char syslog_day[16], apache_day[32];
  std::strftime(syslog_day, sizeof syslog_day, "%b %e", &tm);     // "Nov 21"
  std::strftime(apache_day, sizeof apache_day, "%a %b %d", &tm);  // "Sat Nov 21"
  const std::string d = syslog_day;
  const std::string a = std::string(apache_day);
  const std::string year = std::to_string(tm.tm_year + 1900);
  std::filesystem::create_directories(dir.path() + "/log");
  IncidentLogs logs;
  // Up 110 days; then the breaker trips after 15:19:41 and the next thing
  // written is the kernel's boot banner: no shutdown in between.
  logs.messages = dir.Write(
      "log/messages",
      d + " 14:50:02 home dhclient[437]: New IP Address (em0): 198.51.100.23\n" + d +
          " 15:02:17 home sshd[31611]: Accepted publickey for admin from 192.168.1.20 port 50122 "
          "ssh2\n" +
          d + " 15:21:48 home syslogd: kernel boot file is /boot/kernel/kernel\n" + d +
          " 15:21:48 home kernel: Copyright (c) 1992-2009 The FreeBSD Project.\n" + d +
          " 15:21:48 home kernel: FreeBSD 7.2-RELEASE #0: Fri May  1 07:18:07 UTC 2009\n" + d +
          " 15:22:05 home kernel: ed0: link state changed to UP\n");
  // The mail drops written last before the power went: bob's at 15:10, then
  // alice's, rewritten by qpopper at the end of her session at 15:19:41.
  // After the boot her mailbox cannot be read.
  logs.maillog = dir.Write(
      "log/maillog",
      d + " 15:10:03 home qpopper[31640]: Stats: bob 0 0 2 3456 c.example 192.168.1.21\n" + d +
          " 15:19:40 home qpopper[31650]: (v4.0.9) POP login by user \"alice\" at "
          "(laptop.example) 192.168.1.20\n" +
          d +
          " 15:19:41 home qpopper[31650]: Stats: alice 0 0 12 45678 laptop.example 192.168.1.20\n" +
          d +
          " 17:02:10 home qpopper[31656]: alice at laptop.example (192.168.1.20): -ERR [SYS/PERM] "
          "Unable to process From lines (envelopes), change recognition modes or check for "
          "corrupted mail drop.\n");
  logs.httpd =
      dir.Write("log/httpd-error.log",
                "[" + a + " 15:22:01 " + year +
                    "] [notice] modpython: using mutexdirectory /tmp\n[" + a + " 15:22:01 " + year +
                    "] [error] (17)File exists: modpython: Failed to create global mutex 0 of 8 "
                    "(/tmp/mpmtx7120).\n"
                    "Configuration Failed\n");
  return logs;
}

const nlohmann::json* Finding(const nlohmann::json& j, const std::string& id) {
  if (!j.is_object() || !j.contains("findings")) return nullptr;
  for (const auto& f : j["findings"])
    if (f["signature"] == id) return &f;
  return nullptr;
}

// What nobody could read that evening: `mamori diagnose` over the day's logs
// names the unclean shutdown with the last mailbox written as the suspect,
// the corrupted mail drop, and the stale mod_python mutex with its runbook;
// a step recorded as done is not offered again.
TEST(ScenarioPowerCut, DiagnoseNamesTheUncleanShutdownTheMailboxAndTheMutex) {
  testing::TempDir dir;
  const IncidentLogs logs = WriteIncidentLogs(dir);
  const std::string data = dir.path() + "/data";
  auto r =
      RunMamori({"diagnose", "--json", "--rules", kRules, "--data-dir", data, dir.path() + "/log"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // critical findings
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out << r.err;

  const auto* unclean = Finding(j, "system.unclean-shutdown");
  ASSERT_NE(unclean, nullptr) << r.out;
  EXPECT_EQ((*unclean)["count"], 1);
  const std::string summary = (*unclean)["summary"];
  EXPECT_NE(summary.find("15:21:48"), std::string::npos) << summary;
  EXPECT_NE(summary.find("15:19:41"), std::string::npos) << summary;
  ASSERT_TRUE(unclean->contains("suspects")) << unclean->dump(2);
  ASSERT_FALSE((*unclean)["suspects"].empty()) << unclean->dump(2);
  const auto& suspect = (*unclean)["suspects"][0];
  EXPECT_NE(suspect["what"].get<std::string>().find("mailbox of alice"), std::string::npos)
      << unclean->dump(2);
  EXPECT_EQ(suspect["evidence"]["file"], logs.maillog) << unclean->dump(2);
  EXPECT_EQ(suspect["evidence"]["line"], 3) << unclean->dump(2);
  bool boot = false;
  for (const auto& e : (*unclean)["evidence"])
    boot = boot || (e["file"] == logs.messages && e["line"] == 3);
  EXPECT_TRUE(boot) << unclean->dump(2);

  const auto* drop = Finding(j, "mail.qpopper-corrupted-maildrop");
  ASSERT_NE(drop, nullptr) << r.out;
  EXPECT_EQ((*drop)["severity"], "critical");
  EXPECT_EQ((*drop)["evidence"][0]["file"], logs.maillog);

  const auto* mutex = Finding(j, "apache.mutex-create-failed");
  ASSERT_NE(mutex, nullptr) << r.out;
  EXPECT_EQ((*mutex)["severity"], "critical");
  EXPECT_NE((*mutex)["summary"].get<std::string>().find("/tmp/mpmtx7120"), std::string::npos)
      << mutex->dump(2);
  EXPECT_EQ((*mutex)["evidence"][0]["file"], logs.httpd);
  ASSERT_GE((*mutex)["runbook"].size(), 2u) << mutex->dump(2);
  EXPECT_NE((*mutex)["runbook"][1]["command"].get<std::string>().find("rm -f /tmp/mpmtx*"),
            std::string::npos)
      << mutex->dump(2);
  EXPECT_EQ((*mutex)["next_step"], 1);

  // The operator looked (step 1) and removed the file by hand (step 2).
  for (const char* step : {"1", "2"}) {
    auto done = RunMamori({"runbook", "done", "apache.mutex-create-failed", step, "--result", "ok",
                           "--note", "home server, after the power cut", "--data-dir", data,
                           "--rules", kRules});
    ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  }
  r = RunMamori({"diagnose", "--json", "--rules", kRules, "--data-dir", data, dir.path() + "/log"});
  j = nlohmann::json::parse(r.out, nullptr, false);
  mutex = Finding(j, "apache.mutex-create-failed");
  ASSERT_NE(mutex, nullptr) << r.out;
  EXPECT_EQ((*mutex)["runbook"][1]["tried"]["result"], "ok") << mutex->dump(2);
  EXPECT_EQ((*mutex)["next_step"], 3) << mutex->dump(2);
}

// A process that creates `file` and holds it open on its stdout
// (`sh -c 'exec sleep 60 >>FILE'`): a live Apache's mutex, never unused for
// an instant. Killed on destruction.
class Holder {
 public:
  explicit Holder(const std::string& file) {
    const std::string cmd = "exec sleep 60 >> '" + file + "'";
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    if (::posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0)
      pid_ = -1;
  }
  ~Holder() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  // True once the process has the file open (after the shell's redirect).
  bool Holds(const std::string& file) const {
    std::error_code ec;
    const auto target =
        std::filesystem::read_symlink("/proc/" + std::to_string(pid_) + "/fd/1", ec);
    return !ec && target == file;
  }
  bool Alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

 private:
  pid_t pid_ = -1;
};

// The pid of a process whose open files cannot be read here, or "".
std::string FirstUninspectableProcess() {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] < '0' || name[0] > '9') continue;
    // The remedy reads fd/, maps, exe and cwd; a non-dumpable process
    // refuses them all to a root without CAP_SYS_PTRACE.
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink(e.path() / "exe", ec);
    (void)exe;
    if (ec == std::errc::permission_denied) return name;
    std::filesystem::directory_iterator fds(e.path() / "fd", ec);
    if (ec == std::errc::permission_denied) return name;
  }
  return "";
}

// The repair: the daemon's `file` check (exists: false) on the mutex glob
// turns CRITICAL, its remedy removes the mutex file nobody has open, and the
// re-check is OK. A mutex file a live process holds open is kept.
TEST(ScenarioPowerCut, DaemonRemovesTheStaleMutexButNotOneInUse) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/tmp");
  const std::string glob = dir.path() + "/tmp/mpmtx*";
  // Left by the unclean shutdown: no process has it open.
  const std::string stale = dir.Write("tmp/mpmtx7120", "");
  const std::string config =
      dir.Write("mamori.yaml",
                "data_dir: ./data\n"
                "defaults: {interval: 200ms, timeout: 150ms, failures_before_alert: 1, "
                "successes_before_recovery: 1}\n"
                "checks:\n"
                "  - name: apache-stale-mutex\n"
                "    type: file\n"
                "    path: \"" +
                    glob +
                    "\"\n"
                    "    exists: false\n"
                    "    remedy:\n"
                    "      steps:\n"
                    "        - remove_unused_files: \"" +
                    glob + "\"\n");
  const WallTime began = std::chrono::system_clock::now() - 1s;
  testing::DaemonProcess daemon({"-c", config}, dir.path() + "/daemon.log");
  ASSERT_TRUE(daemon.WaitForLog("apache-stale-mutex: PENDING -> CRITICAL")) << daemon.Log();
  // Where some process cannot be inspected even by root (a non-dumpable one
  // without CAP_SYS_PTRACE, as in some containers), nobody can tell that the
  // mutex is unused: the remedy must remove nothing and say why. That branch
  // is asserted instead; the repair itself where every process is visible.
  if (const std::string blind = FirstUninspectableProcess(); !blind.empty()) {
    ASSERT_TRUE(daemon.WaitForLog("cannot see what process " + blind + " uses")) << daemon.Log();
    ASSERT_TRUE(daemon.WaitForLog("removed nothing")) << daemon.Log();
    EXPECT_TRUE(std::filesystem::exists(stale));
    GTEST_LOG_(INFO) << "process " << blind
                     << " cannot be inspected here: asserted that nothing was removed";
    return;
  }
  ASSERT_TRUE(daemon.WaitForLog("remedy ok: remove_unused_files " + glob + ": removed " + stale))
      << daemon.Log();
  ASSERT_TRUE(daemon.WaitForLog("apache-stale-mutex: CRITICAL -> OK")) << daemon.Log();
  EXPECT_FALSE(std::filesystem::exists(stale));

  // A mutex file in use by a live process.
  const std::string live = dir.path() + "/tmp/mpmtx8123";
  Holder holder(live);
  ASSERT_TRUE(testing::Eventually([&] { return holder.Holds(live); }, 5000ms));
  ASSERT_TRUE(daemon.WaitForLog("apache-stale-mutex: OK -> CRITICAL")) << daemon.Log();
  ASSERT_TRUE(
      daemon.WaitForLog("remedy ok: remove_unused_files " + glob + ": in use, kept " + live))
      << daemon.Log();
  EXPECT_TRUE(std::filesystem::exists(live));
  EXPECT_TRUE(holder.Alive());
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0) << daemon.Log();
  EXPECT_TRUE(std::filesystem::exists(live));

  // The history says what mamori touched and what it left alone.
  SystemClock sys;
  auto store = Store::Open(dir.path() + "/data", sys, Store::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto events = (*store)->Events(std::string("apache-stale-mutex"), began, 100);
  ASSERT_TRUE(events.ok()) << events.error().message();
  bool removed = false, kept = false;
  for (const auto& e : *events) {
    if (e.kind != EventKind::kRemedy) continue;
    removed = removed || e.summary.find("removed " + stale) != std::string::npos;
    kept = kept || e.summary.find("in use, kept " + live) != std::string::npos;
  }
  EXPECT_TRUE(removed && kept) << daemon.Log();
}

}  // namespace
}  // namespace mamori
