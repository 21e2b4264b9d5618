// OOM kills from the journal (kernel_journal.h) next to /dev/kmsg: real
// journal files written by systemd-journal-remote from the export format,
// holding this boot's kernel lines, an earlier boot's, and a program that
// logs the same words through syslog. Proves: only this boot's kernel lines
// count, a kill whose lines the ring buffer lost is found in the journal, a
// kill in both sources is counted once, and the read is bounded.
#include "mamori/host/kernel_journal.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "mamori/host/kernel_facts.h"
#include "mamori/host/kernel_probe.h"
#include "testing/cli.h"

namespace mamori::host::kernel {
namespace {

using namespace std::chrono_literals;

constexpr const char* kJournalRemote = "/lib/systemd/systemd-journal-remote";
constexpr const char* kThisBoot = "0b3e1a2c-9f7d-4e21-8c55-6a7b8c9d0e1f";
constexpr const char* kEarlierBoot = "aaaaaaaabbbbccccddddeeeeeeeeeeee";

std::string Entry(int64_t sec, const std::string& boot, const std::string& transport,
                  const std::string& msg) {
  std::string id;
  for (char c : boot)
    if (c != '-') id.push_back(c);
  return "__REALTIME_TIMESTAMP=" + std::to_string(sec * 1000000) +
         "\n__MONOTONIC_TIMESTAMP=" + std::to_string(sec * 1000) + "\n_BOOT_ID=" + id +
         "\n_TRANSPORT=" + transport + "\nSYSLOG_IDENTIFIER=kernel\nPRIORITY=3\nMESSAGE=" + msg +
         "\n\n";
}

// An early kill of nginx (long gone from the ring buffer), a later kill of
// mariadbd (also still in /dev/kmsg), an earlier boot's kill of java, and
// a shell script echoing the kernel's words through syslog.
std::string Journal() {
  return Entry(1700000000, kEarlierBoot, "kernel",
               "Out of memory: Killed process 42 (java) total-vm:1kB, anon-rss:1kB") +
         Entry(1700001000, kThisBoot, "kernel",
               "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
               "global_oom,task_memcg=/system.slice/nginx.service,task=nginx,pid=901,uid=33") +
         Entry(1700001000, kThisBoot, "kernel",
               "Out of memory: Killed process 901 (nginx) total-vm:91204kB, anon-rss:80000kB") +
         Entry(1700001500, kThisBoot, "syslog",
               "Out of memory: Killed process 77 (fake) total-vm:1kB, anon-rss:1kB") +
         Entry(1700002000, kThisBoot, "kernel", "EXT4-fs (vda1): re-mounted. Quota mode: none.") +
         Entry(1700003000, kThisBoot, "kernel",
               "Out of memory: Killed process 812 (mariadbd) total-vm:2817508kB, anon-rss:1kB");
}

class KernelJournal : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kJournalRemote, X_OK) != 0)
      GTEST_SKIP() << kJournalRemote << " is missing (package systemd-journal-remote)";
    std::filesystem::create_directories(dir_.path() + "/journal");
    const std::string cmd = std::string(kJournalRemote) + " --output=" + journal() +
                            "/remote.journal " + dir_.Write("in.export", Journal()) +
                            " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::string journal() const { return dir_.path() + "/journal"; }
  testing::TempDir dir_;
};

TEST_F(KernelJournal, OnlyThisBootsKernelLinesAboutKills) {
  JournalQuery q{journal(), kThisBoot, 1000};
  bool truncated = true;
  auto lines = ReadKernelOomLines(q, std::chrono::steady_clock::now() + 5s, &truncated);
  ASSERT_TRUE(lines.ok()) << lines.error().message();
  EXPECT_FALSE(truncated);
  ASSERT_EQ(lines->size(), 3u);  // newest first; the ext4 line is not kept
  EXPECT_NE((*lines)[0].find("(mariadbd)"), std::string::npos) << (*lines)[0];
  EXPECT_EQ(OomKills(*lines), (std::map<std::string, int>{{"mariadbd", 1}, {"nginx", 1}}));

  // Bounded: two entries looked at (mariadbd's, the ext4 line), then it stops.
  q.max_entries = 2;
  lines = ReadKernelOomLines(q, std::chrono::steady_clock::now() + 5s, &truncated);
  ASSERT_TRUE(lines.ok());
  EXPECT_TRUE(truncated);
  EXPECT_EQ(OomKills(*lines), (std::map<std::string, int>{{"mariadbd", 1}}));
}

TEST_F(KernelJournal, TheCheckCountsAKillInBothSourcesOnce) {
  probes::kernel::Options o;
  o.fs_root = dir_.path();
  o.newer_kernel = false;
  o.reboot_required = false;
  o.journal_dir = journal();
  o.boot_id = kThisBoot;
  // The ring buffer wrapped: only mariadbd's kill is still in it.
  o.kmsg = dir_.Write("kmsg",
                      "6,9000,3000000000,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),"
                      "task_memcg=/system.slice/mariadb.service,task=mariadbd,pid=812,uid=106\n"
                      "3,9001,3000000010,-;Out of memory: Killed process 812 (mariadbd) "
                      "total-vm:2817508kB, anon-rss:1kB\n");
  probes::kernel::KernelProbe probe(o);
  SystemClock clock;
  auto obs = probe.Run(clock, clock.Monotonic() + 5s);
  EXPECT_EQ(obs.status, CheckStatus::kWarning);
  EXPECT_EQ(obs.summary, "OOM killer killed mariadbd, nginx since boot");

  o.oom_journal = false;  // the ring buffer alone misses nginx
  probes::kernel::KernelProbe kmsg_only(o);
  EXPECT_EQ(kmsg_only.Run(clock, clock.Monotonic() + 5s).summary,
            "OOM killer killed mariadbd since boot");
}

}  // namespace
}  // namespace mamori::host::kernel
