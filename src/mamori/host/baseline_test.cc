#include "mamori/host/baseline.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <filesystem>
#include <fstream>

#include "mamori/host/baseline_file.h"
#include "mamori/host/baseline_probe.h"
#include "testing/cli.h"

namespace mamori::host::baseline {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kTcpHeader =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n";

// A crafted /proc: up for 100000 s, ephemeral ports 32768-60999.
class FakeProc {
 public:
  FakeProc() {
    root_ = dir_.path() + "/proc";
    Write("uptime", "100000.00 90000.00\n");
    Write("sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
    Write("net/tcp", kTcpHeader);
    Write("net/udp", kTcpHeader);
    Write("self/mountinfo", "");
  }
  const std::string& root() const { return root_; }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories(fs::path(root_ + "/" + rel).parent_path());
    std::ofstream(root_ + "/" + rel) << text;
  }
  // A process started `age` before now, with `exe` ("" for a kernel thread).
  void Process(int pid, const std::string& comm, const std::string& exe, Duration age, int ppid = 1,
               int tty = 0) const {
    const long tick = ::sysconf(_SC_CLK_TCK);
    const double started = 100000.0 - std::chrono::duration<double>(age).count();
    const auto start_ticks = static_cast<long long>(started * static_cast<double>(tick));
    Write(fmt::format("{}/stat", pid),
          fmt::format("{} ({}) S {} {} {} {} -1 0 0 0 0 0 1 1 0 0 20 0 1 0 {} 1000 100\n", pid,
                      comm, ppid, pid, pid, tty, start_ticks));
    Write(fmt::format("{}/comm", pid), comm + "\n");
    fs::create_directories(fmt::format("{}/{}/fd", root_, pid));
    if (!exe.empty()) fs::create_symlink(exe, fmt::format("{}/{}/exe", root_, pid));
  }
  void Socket(int pid, int fd, uint64_t inode) const {
    fs::create_symlink(fmt::format("socket:[{}]", inode),
                       fmt::format("{}/{}/fd/{}", root_, pid, fd));
  }
  // One line of /proc/net/tcp or udp: 127.0.0.1:port, state, inode.
  static std::string Line(int sl, int port, int state, uint64_t inode, int remote_port = 0) {
    return fmt::format(
        "{:4}: 0100007F:{:04X} 0100007F:{:04X} {:02X} 00000000:00000000 00:00000000 00000000 "
        "    0        0 {} 1 0000000000000000 100 0 0 10 0\n",
        sl, port, remote_port, state, inode);
  }

 private:
  testing::TempDir dir_;
  std::string root_;
};

SnapshotOptions Opts(const FakeProc& p) {
  SnapshotOptions o;
  o.proc_root = p.root();
  o.min_age = minutes(5);
  return o;
}

const Item* Find(const std::vector<Item>& items, Kind k, const std::string& name) {
  for (const auto& i : items)
    if (i.kind == k && i.name == name) return &i;
  return nullptr;
}

TEST(BaselineSnapshot, ListenersComeFromTheTcpTableWithTheirOwningProcess) {
  FakeProc p;
  p.Process(100, "nginx", "/usr/sbin/nginx", hours(2));
  p.Socket(100, 6, 5001);
  p.Write("net/tcp", std::string(kTcpHeader) + FakeProc::Line(0, 8081, 0x0A, 5001) +
                         FakeProc::Line(1, 22, 0x0A, 5002) +
                         // an established connection is not a listener
                         FakeProc::Line(2, 443, 0x01, 5003, 51000));
  auto items = ReadListeners(Opts(p));
  ASSERT_TRUE(items.ok()) << items.error().message();
  ASSERT_EQ(items->size(), 2u);
  const Item* nginx = Find(*items, Kind::kListener, "8081/tcp");
  ASSERT_NE(nginx, nullptr);
  EXPECT_EQ(nginx->detail, "nginx");
  EXPECT_TRUE(nginx->learnable);
  const Item* ssh = Find(*items, Kind::kListener, "22/tcp");
  ASSERT_NE(ssh, nullptr);
  EXPECT_EQ(ssh->detail, "");  // no process holds that inode here
  EXPECT_TRUE(ssh->learnable);
  EXPECT_EQ(Find(*items, Kind::kListener, "443/tcp"), nullptr);
}

TEST(BaselineSnapshot, EphemeralListenersOfShortLivedProcessesAreNotLearnable) {
  FakeProc p;
  p.Process(100, "old-server", "/usr/bin/old-server", hours(2));
  p.Process(200, "curl", "/usr/bin/curl", seconds(3));
  p.Socket(100, 3, 7001);
  p.Socket(200, 3, 7002);
  p.Write("net/tcp", std::string(kTcpHeader) + FakeProc::Line(0, 40001, 0x0A, 7001) +
                         FakeProc::Line(1, 40002, 0x0A, 7002) +
                         FakeProc::Line(2, 40003, 0x0A, 7003));  // owner unknown
  p.Write("net/udp", std::string(kTcpHeader) + FakeProc::Line(0, 53, 0x07, 7004) +
                         FakeProc::Line(1, 45000, 0x07, 7005));  // a client's socket
  auto items = ReadListeners(Opts(p));
  ASSERT_TRUE(items.ok());
  EXPECT_TRUE(Find(*items, Kind::kListener, "40001/tcp")->learnable);
  EXPECT_FALSE(Find(*items, Kind::kListener, "40002/tcp")->learnable);
  EXPECT_FALSE(Find(*items, Kind::kListener, "40003/tcp")->learnable);
  EXPECT_TRUE(Find(*items, Kind::kListener, "53/udp")->learnable);
  EXPECT_FALSE(Find(*items, Kind::kListener, "45000/udp")->learnable);
}

TEST(BaselineSnapshot, ProcessesAreLongRunningExecutablesWithoutATerminal) {
  FakeProc p;
  p.Process(2, "kthreadd", "", hours(3), 0);
  p.Process(20, "kworker/0:1", "", hours(3), 2);
  p.Process(300, "cron", "/usr/sbin/cron", hours(3));
  p.Process(301, "php-fpm8.2", "/usr/sbin/php-fpm8.2 (deleted)", hours(3));
  p.Process(400, "bash", "/usr/bin/bash", hours(3), 1, 34816);  // a login shell on pts/0
  p.Process(500, "sleep", "/usr/bin/sleep", seconds(10));
  auto items = ReadProcesses(Opts(p));
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 3u) << "kernel threads and the terminal's shell are left out";
  EXPECT_TRUE(Find(*items, Kind::kProcess, "/usr/sbin/cron")->learnable);
  EXPECT_TRUE(Find(*items, Kind::kProcess, "/usr/sbin/php-fpm8.2")->learnable);
  EXPECT_FALSE(Find(*items, Kind::kProcess, "/usr/bin/sleep")->learnable);
}

TEST(BaselineSnapshot, UnitsAndMounts) {
  std::vector<systemd::UnitRecord> units(6);
  const char* names[] = {"nginx.service",
                         "session-3.scope",
                         "run-r1234.service",
                         "user@1000.service",
                         "sshd@4-10.0.0.1:22-10.0.0.2:5555.service",
                         "cron.service"};
  for (size_t i = 0; i < units.size(); ++i) {
    units[i].name = names[i];
    units[i].load_state = "loaded";
    units[i].active_state = "active";
  }
  units[5].active_state = "inactive";
  auto items = UnitItems(units, 100);
  ASSERT_EQ(items.size(), 5u);  // the inactive cron is not there
  for (const auto& i : items) EXPECT_EQ(i.learnable, i.name == "nginx.service") << i.name;

  const std::string mountinfo =
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "23 22 0:5 / /proc rw - proc proc rw\n"
      "24 22 0:40 / /srv/backup rw - nfs4 nas:/backup rw\n"
      "25 22 8:1 /var /mnt/bind rw - ext4 /dev/sda1 rw\n";
  auto mounts = MountItems(mountinfo, 100);
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].name, "/");
  EXPECT_EQ(mounts[1].name, "/srv/backup");
  EXPECT_EQ(MissingText(mounts[1]), "/srv/backup (nfs4) is not mounted");
}

TEST(BaselineDiff, NamesWhatIsMissingAndOnlyOfKindsThatWereRead) {
  std::vector<Item> baseline = {{Kind::kListener, "443/tcp", "nginx"},
                                {Kind::kProcess, "/usr/sbin/cron", "cron"},
                                {Kind::kUnit, "nginx.service", ""},
                                {Kind::kMount, "/srv/backup", "nfs"}};
  Snapshot now;
  now.read = {true, true, false, true};  // units could not be read this time
  now.items = {{Kind::kProcess, "/usr/sbin/cron", "cron"}};
  auto missing = Missing(baseline, now);
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(MissingText(missing[0]), "443/tcp (nginx) was listening and is not now");
  EXPECT_EQ(MissingText(missing[1]), "/srv/backup (nfs) is not mounted");
  EXPECT_EQ(MissingText(baseline[1]), "process /usr/sbin/cron is not running");
  EXPECT_EQ(MissingText(baseline[2]), "nginx.service was active and is not now");
}

Snapshot With(std::vector<Item> items) {
  Snapshot s;
  s.read = {true, true, true, true};
  s.items = std::move(items);
  std::sort(s.items.begin(), s.items.end());
  return s;
}

TEST(BaselineLearner, LearnsOnlyAfterLearnAfterOfContinuousHealthyPresence) {
  FakeClock clock;
  Learner l;
  auto none = [](const Item&) { return false; };
  const Item nginx{Kind::kListener, "443/tcp", "nginx"};
  const Item young{Kind::kProcess, "/usr/bin/sleep", "sleep", false};
  const auto snap = With({nginx, young});
  EXPECT_TRUE(l.Observe(snap, true, clock.Monotonic(), hours(1), none).empty());
  clock.Advance(minutes(59));
  EXPECT_TRUE(l.Observe(snap, true, clock.Monotonic(), hours(1), none).empty());
  clock.Advance(minutes(1));
  auto due = l.Observe(snap, true, clock.Monotonic(), hours(1), none);
  ASSERT_EQ(due.size(), 1u) << "the unlearnable item is never due";
  EXPECT_EQ(due[0].name, "443/tcp");
  // Already in the baseline: not due again.
  EXPECT_TRUE(
      l.Observe(snap, true, clock.Monotonic(), hours(1), [](const Item&) { return true; }).empty());
}

TEST(BaselineLearner, NeverLearnsWhileUnhealthyAndAGapStartsOver) {
  FakeClock clock;
  Learner l;
  auto none = [](const Item&) { return false; };
  const auto snap = With({{Kind::kUnit, "nginx.service", ""}});
  l.Observe(snap, true, clock.Monotonic(), hours(1), none);
  clock.Advance(minutes(50));
  EXPECT_TRUE(l.Observe(snap, false, clock.Monotonic(), hours(1), none).empty());
  clock.Advance(minutes(20));  // 70 minutes since first seen, but a failure in between
  EXPECT_TRUE(l.Observe(snap, true, clock.Monotonic(), hours(1), none).empty());
  clock.Advance(minutes(50));
  EXPECT_TRUE(l.Observe(With({}), true, clock.Monotonic(), hours(1), none).empty());
  clock.Advance(minutes(20));  // gone once: starts over
  EXPECT_TRUE(l.Observe(snap, true, clock.Monotonic(), hours(1), none).empty());
  clock.Advance(hours(1));
  EXPECT_EQ(l.Observe(snap, true, clock.Monotonic(), hours(1), none).size(), 1u);
}

TEST(BaselineFile, RoundTripsAndAMissingFileIsEmpty) {
  testing::TempDir dir;
  const std::string path = BaselinePath(dir.path());
  auto empty = Load(path);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());
  Document d;
  const WallTime t = FromUnixMillis(1767225600000);
  d.Add({Kind::kMount, "/srv/my backup", "nfs"}, t);
  d.Add({Kind::kListener, "443/tcp", "nginx"}, t + seconds(5));
  ASSERT_TRUE(Save(path, d).ok());
  auto back = Load(path);
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->entries.size(), 2u);
  EXPECT_EQ(back->entries[0].item.name, "443/tcp");
  EXPECT_EQ(back->entries[0].item.detail, "nginx");
  EXPECT_EQ(back->entries[0].learned, t + seconds(5));
  EXPECT_EQ(back->entries[1].item.name, "/srv/my backup");
  EXPECT_EQ(back->created, t);
  EXPECT_EQ(back->Forget("443/tcp"), 1u);
  EXPECT_EQ(back->Forget("443/tcp"), 0u);
}

TEST(BaselineFile, ACorruptFileIsReportedAndLeftAlone) {
  testing::TempDir dir;
  const std::string path = dir.Write("baseline.json", "{\"version\": 1, \"items\": [ {\"kind\"");
  auto d = Load(path);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message().find("is not a baseline"), std::string::npos)
      << d.error().message();
  EXPECT_NE(d.error().message().find("mamori baseline accept"), std::string::npos);
  FakeClock clock;
  auto u = Update(dir.path(), clock.Monotonic() + seconds(1), clock, [](Document& doc) {
    doc.Add({Kind::kUnit, "x.service", ""}, WallTime{});
    return true;
  });
  EXPECT_FALSE(u.ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{\"version\": 1, \"items\": [ {\"kind\"");
  EXPECT_FALSE(FromJson("{\"version\": 2, \"items\": []}", "f").ok());
  EXPECT_FALSE(
      FromJson("{\"version\": 1, \"items\": [{\"kind\": \"disk\", \"name\": \"x\"}]}", "f").ok());
}

TEST(BaselineFile, SaveReplacesTheFileAtomically) {
  testing::TempDir dir;
  const std::string path = BaselinePath(dir.path());
  Document a;
  a.Add({Kind::kUnit, "a.service", ""}, WallTime{});
  ASSERT_TRUE(Save(path, a).ok());
  // A reader holding the old file keeps reading the old content whole: the
  // new one was written beside it and renamed over, not written in place.
  std::ifstream old(path);
  Document b;
  b.Add({Kind::kUnit, "b.service", ""}, WallTime{});
  ASSERT_TRUE(Save(path, b).ok());
  std::string old_text((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
  EXPECT_NE(old_text.find("a.service"), std::string::npos);
  auto now = Load(path);
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->entries.size(), 1u);
  EXPECT_EQ(now->entries[0].item.name, "b.service");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

class FixedHealth final : public HostHealth {
 public:
  bool ok = true;
  bool AllOk() const override { return ok; }
};

struct ProbeFixture {
  FakeProc proc;
  testing::TempDir data;
  FakeClock clock;
  FixedHealth health;
  std::unique_ptr<probes::baseline::BaselineProbe> probe;

  ProbeFixture() {
    proc.Process(100, "nginx", "/usr/sbin/nginx", hours(2));
    proc.Socket(100, 6, 5001);
    proc.Write("net/tcp", std::string(kTcpHeader) + FakeProc::Line(0, 8081, 0x0A, 5001));
    probes::baseline::Options o;
    o.learn_after = hours(1);
    o.snapshot.proc_root = proc.root();
    o.snapshot.include = {true, true, false, false};
    probe = std::make_unique<probes::baseline::BaselineProbe>(o);
    probe->Use(data.path(), &health);
  }
  Observation Run() { return probe->Run(clock, clock.Monotonic() + seconds(5)); }
};

TEST(BaselineProbe, LearnsWhileHealthyThenNamesTheListenerThatWentAway) {
  ProbeFixture f;
  auto o = f.Run();
  EXPECT_EQ(o.status, CheckStatus::kOk);
  EXPECT_EQ(o.summary, "learning: nothing learned yet (needs 1h of healthy host)");
  f.clock.Advance(hours(1));
  o = f.Run();
  EXPECT_EQ(o.status, CheckStatus::kOk) << o.summary;
  EXPECT_EQ(o.summary,
            "baseline: 1 listeners, 1 processes, 0 units, 0 filesystems present (learned 0s ago)");
  // nginx dies: its socket and its process are gone.
  f.proc.Write("net/tcp", kTcpHeader);
  fs::remove_all(f.proc.root() + "/100");
  f.clock.Advance(minutes(1));
  o = f.Run();
  EXPECT_EQ(o.status, CheckStatus::kWarning);
  EXPECT_EQ(o.summary,
            "8081/tcp (nginx) was listening and is not now; process /usr/sbin/nginx is not "
            "running");
}

TEST(BaselineProbe, DoesNotLearnWhileUnhealthyOrWithoutHealth) {
  ProbeFixture f;
  f.health.ok = false;
  for (int i = 0; i < 3; ++i, f.clock.Advance(hours(1)))
    EXPECT_NE(f.Run().summary.find("nothing learned yet"), std::string::npos);
  f.probe->Use(f.data.path(), nullptr);  // a one-shot run: health unknown
  for (int i = 0; i < 3; ++i, f.clock.Advance(hours(1)))
    EXPECT_NE(f.Run().summary.find("mamori baseline accept"), std::string::npos);
  EXPECT_FALSE(fs::exists(BaselinePath(f.data.path())));
}

TEST(BaselineProbe, ACorruptBaselineIsUnknownNotACrash) {
  ProbeFixture f;
  f.data.Write("baseline.json", "garbage");
  auto o = f.Run();
  EXPECT_EQ(o.status, CheckStatus::kUnknown);
  EXPECT_NE(o.summary.find("is not a baseline"), std::string::npos) << o.summary;
}

}  // namespace
}  // namespace mamori::host::baseline
