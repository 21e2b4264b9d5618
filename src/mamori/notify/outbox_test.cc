// The outbox with real receivers: a real aiosmtpd SMTP server that is
// stopped, restarted and told to refuse; real processes for `command`; a
// real SIGKILL of a process in the middle of a delivery. Backoff is driven by
// a FakeClock (wall time), so no test waits for a retry delay.
#include "mamori/notify/outbox.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "mamori/store/sqlite.h"
#include "testing/notify_servers.h"

extern char** environ;

namespace mamori::notify {
namespace {

using namespace std::chrono_literals;
using testing::NotifyFromYaml;
using testing::ReadFile;
using testing::SmtpSink;
using testing::TempDir;
using testing::WaitFor;

Notification Problem(const Clock& clock, const std::string& check = "backup-db") {
  return testing::SampleProblem(clock.Now(), check, "pg_dump wrote 12 B");
}

ChannelList Mail(const std::string& url) {
  std::string errors;
  auto cfg = NotifyFromYaml("notify: [{name: ops-mail, type: email, smtp: " + url +
                                ", from: mamori@example.org, to: [ops@example.org], timeout: 5s}]",
                            &errors);
  EXPECT_EQ(errors, "");
  return cfg.channels;
}

std::unique_ptr<Outbox> OpenOutbox(const std::string& dir, const Clock& clock) {
  auto o = Outbox::Open(dir, clock);
  EXPECT_TRUE(o.ok()) << o.error().message();
  return o.ok() ? std::move(*o) : nullptr;
}

std::optional<OutboxItem> Item0(Outbox& o, const std::string& id) {
  auto items = o.Items(id);
  if (!items.ok() || items->empty()) return std::nullopt;
  return items->front();
}

ChannelHealth HealthOf(Outbox& o, const std::string& channel) {
  auto h = o.Health();
  if (h.ok())
    for (auto& c : *h)
      if (c.channel == channel) return c;
  return {};
}

TEST(NotifyOutbox, RetryDelayDoublesUpToTheMaximum) {
  OutboxPolicy p;
  EXPECT_EQ(RetryDelay(p, 1), Duration(10s));
  EXPECT_EQ(RetryDelay(p, 2), Duration(20s));
  EXPECT_EQ(RetryDelay(p, 4), Duration(80s));
  EXPECT_EQ(RetryDelay(p, 9), Duration(30min));
  EXPECT_EQ(RetryDelay(p, 1000), Duration(30min));
}

TEST(NotifyOutbox, DeliversOnceAndRecordsTheAnswer) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  TempDir dir;
  FakeClock clock;
  auto ob = OpenOutbox(dir.path(), clock);
  ASSERT_TRUE(ob);
  ob->SetChannels(Mail(smtp->Url()));
  const Notification n = Problem(clock);
  ASSERT_TRUE(ob->Enqueue(n, {"ops-mail"}).ok());
  // Enqueueing the same notification again is a no-op.
  ASSERT_TRUE(ob->Enqueue(n, {"ops-mail"}).ok());
  ASSERT_TRUE(WaitFor([&] { return Item0(*ob, n.id) && Item0(*ob, n.id)->state == "delivered"; }));
  EXPECT_EQ(ob->Items()->size(), 1u);
  EXPECT_EQ(smtp->Messages().size(), 1u);
  auto attempts = ob->Attempts(n.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_TRUE((*attempts)[0].ok());
  EXPECT_EQ((*attempts)[0].answer, "250 2.0.0 Ok: queued as TEST0001");
  ChannelHealth h = HealthOf(*ob, "ops-mail");
  EXPECT_EQ(h.consecutive_failures, 0);
  EXPECT_EQ(h.pending, 0);
  EXPECT_EQ(h.last_answer, "250 2.0.0 Ok: queued as TEST0001");
  EXPECT_FALSE(ob->Enqueue(n, {"no-such-channel"}).ok());
  // A second outbox on the same directory is refused while this one is open.
  auto second = Outbox::Open(dir.path(), clock);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("in use by another mamori process"), std::string::npos);
}

TEST(NotifyOutbox, SmtpDownThenUpLosesNothingAndDeliversOnce) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  smtp->Stop();
  TempDir dir;
  FakeClock clock;
  auto ob = OpenOutbox(dir.path(), clock);
  ASSERT_TRUE(ob);
  ob->SetChannels(Mail(smtp->Url()));
  const Notification a = Problem(clock, "a"), b = Problem(clock, "b");
  ASSERT_TRUE(ob->Enqueue(a, {"ops-mail"}).ok());
  ASSERT_TRUE(ob->Enqueue(b, {"ops-mail"}).ok());
  ASSERT_TRUE(WaitFor([&] { return HealthOf(*ob, "ops-mail").consecutive_failures == 1; }));
  // The channel backs off as a whole: b was not tried while a failed.
  ChannelHealth h = HealthOf(*ob, "ops-mail");
  EXPECT_NE(h.last_error.find("failed: "), std::string::npos) << h.last_error;
  EXPECT_EQ(h.pending, 2);
  EXPECT_EQ(Item0(*ob, a.id)->attempts, 1);
  EXPECT_EQ(Item0(*ob, a.id)->next_attempt, clock.Now() + 10s);
  EXPECT_EQ(Item0(*ob, b.id)->attempts, 0);

  // Still down at the first retry: both back off further.
  clock.Advance(10s);
  ob->Wake();
  ASSERT_TRUE(WaitFor([&] { return HealthOf(*ob, "ops-mail").consecutive_failures == 2; }));

  ASSERT_TRUE(smtp->Restart(&error)) << error;
  clock.Advance(1h);
  ob->Wake();
  ASSERT_TRUE(WaitFor([&] {
    return Item0(*ob, a.id)->state == "delivered" && Item0(*ob, b.id)->state == "delivered";
  }));
  auto msgs = smtp->Messages();
  ASSERT_EQ(msgs.size(), 2u);
  // Oldest first.
  EXPECT_NE(msgs[0].find("X-Mamori-Check: a\r\n"), std::string::npos);
  EXPECT_NE(msgs[1].find("X-Mamori-Check: b\r\n"), std::string::npos);
  h = HealthOf(*ob, "ops-mail");
  EXPECT_EQ(h.consecutive_failures, 0);
  EXPECT_EQ(h.pending, 0);
}

TEST(NotifyOutbox, DmarcRejectionReachesTheHealthSummary) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  smtp->RejectWith("550 5.7.1 rejected by DMARC policy");
  TempDir dir;
  FakeClock clock;
  auto ob = OpenOutbox(dir.path(), clock);
  ASSERT_TRUE(ob);
  ob->SetChannels(Mail(smtp->Url()));
  const Notification n = Problem(clock);
  ASSERT_TRUE(ob->Enqueue(n, {"ops-mail"}).ok());
  ASSERT_TRUE(WaitFor([&] { return HealthOf(*ob, "ops-mail").consecutive_failures == 1; }));
  ChannelHealth h = HealthOf(*ob, "ops-mail");
  EXPECT_EQ(h.last_error, "mail to ops@example.org rejected: 550 5.7.1 rejected by DMARC policy");
  EXPECT_TRUE(h.failing());
  EXPECT_EQ(h.last_error_time, clock.Now());
  EXPECT_EQ(h.describe, "mail to ops@example.org via " + smtp->Url());
  auto attempts = ob->Attempts(n.id);
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].outcome, "failed");
  EXPECT_EQ((*attempts)[0].answer, h.last_error);

  // The relay is fixed: the next retry gets through and health recovers.
  smtp->RejectWith("");
  clock.Advance(10s);
  ob->Wake();
  ASSERT_TRUE(WaitFor([&] { return Item0(*ob, n.id)->state == "delivered"; }));
  EXPECT_EQ(HealthOf(*ob, "ops-mail").consecutive_failures, 0);
  EXPECT_EQ(smtp->Messages().size(), 1u);
}

TEST(NotifyOutbox, ExpiresAfterTheConfiguredTime) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  smtp->RejectWith("451 4.3.0 try again later");
  TempDir dir;
  FakeClock clock;
  OutboxOptions opts;
  opts.policy.expire_after = 2h;
  auto o = Outbox::Open(dir.path(), clock, opts);
  ASSERT_TRUE(o.ok());
  auto& ob = *o;
  ob->SetChannels(Mail(smtp->Url()));
  const Notification n = Problem(clock);
  ASSERT_TRUE(ob->Enqueue(n, {"ops-mail"}).ok());
  ASSERT_TRUE(WaitFor(
      [&] { return Item0(*ob, n.id)->attempts == 1 && Item0(*ob, n.id)->state == "pending"; }));
  clock.Advance(3h);
  ob->Wake();
  ASSERT_TRUE(WaitFor([&] { return Item0(*ob, n.id)->state == "expired"; }));
  EXPECT_NE(Item0(*ob, n.id)->last_answer.find("451 4.3.0 try again later"), std::string::npos);
  ChannelHealth h = HealthOf(*ob, "ops-mail");
  EXPECT_EQ(h.expired, 1);
  EXPECT_EQ(h.pending, 0);
}

TEST(NotifyOutbox, PendingItemsSurviveARestartAndAreNotSentTwice) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  smtp->Stop();
  TempDir dir;
  FakeClock clock;
  std::vector<std::string> ids;
  {
    auto ob = OpenOutbox(dir.path(), clock);
    ASSERT_TRUE(ob);
    ob->SetChannels(Mail(smtp->Url()));
    for (int i = 0; i < 3; ++i) {
      Notification n = Problem(clock, "check" + std::to_string(i));
      ids.push_back(n.id);
      ASSERT_TRUE(ob->Enqueue(n, {"ops-mail"}).ok());
    }
    ASSERT_TRUE(WaitFor([&] { return HealthOf(*ob, "ops-mail").consecutive_failures == 1; }));
  }  // "daemon stops" with three items pending
  ASSERT_TRUE(smtp->Restart(&error)) << error;
  clock.Advance(1min);
  {
    auto ob = OpenOutbox(dir.path(), clock);
    ASSERT_TRUE(ob);
    // Health carries over the restart until the next attempt.
    EXPECT_EQ(HealthOf(*ob, "ops-mail").consecutive_failures, 1);
    ob->SetChannels(Mail(smtp->Url()));
    ASSERT_TRUE(WaitFor([&] {
      for (const auto& id : ids)
        if (Item0(*ob, id)->state != "delivered") return false;
      return true;
    }));
  }
  EXPECT_EQ(smtp->Messages().size(), 3u);
  // A third start: a new marker is delivered; nothing older is sent again
  // (the channel goes oldest first, so a re-sent item would arrive before it).
  {
    auto ob = OpenOutbox(dir.path(), clock);
    ASSERT_TRUE(ob);
    ob->SetChannels(Mail(smtp->Url()));
    Notification marker = Problem(clock, "marker");
    ASSERT_TRUE(ob->Enqueue(marker, {"ops-mail"}).ok());
    ASSERT_TRUE(WaitFor([&] { return Item0(*ob, marker.id)->state == "delivered"; }));
  }
  auto msgs = smtp->Messages();
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_NE(msgs[3].find("X-Mamori-Check: marker"), std::string::npos);
}

// The body of the crash test, run in a child process (this same test binary,
// re-executed): opens the outbox, enqueues, and hangs inside a delivery until
// the parent kills it with SIGKILL.
TEST(NotifyOutboxCrash, DISABLED_Child) {
  const char* dir = std::getenv("MAMORI_OUTBOX_CHILD_DIR");
  if (!dir) GTEST_SKIP() << "only run by NotifyOutbox.KilledDuringDeliveryIsRetriedAfterRestart";
  SystemClock clock;
  auto ob = OpenOutbox(dir, clock);
  ASSERT_TRUE(ob);
  std::string errors;
  auto cfg = NotifyFromYaml(std::string("notify: [{name: pager, type: command, shell: true, "
                                        "timeout: 60s, command: \"echo $$ > ") +
                                dir + "/hung.pid; exec sleep 60\"}]",
                            &errors);
  ASSERT_EQ(errors, "");
  ob->SetChannels(cfg.channels);
  Notification n = Problem(clock);
  n.id = "c0ffee00-0000-4000-8000-000000000001";
  ASSERT_TRUE(ob->Enqueue(n, {"pager"}).ok());
  std::this_thread::sleep_for(60s);  // killed long before this ends
}

TEST(NotifyOutbox, KilledDuringDeliveryIsRetriedAfterRestart) {
  TempDir dir;
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string filter = "--gtest_filter=NotifyOutboxCrash.DISABLED_Child";
  std::string also = "--gtest_also_run_disabled_tests";
  std::string env = "MAMORI_OUTBOX_CHILD_DIR=" + dir.path();
  std::vector<char*> argv = {self.data(), filter.data(), also.data(), nullptr};
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  envp.push_back(env.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, (dir.path() + "/child.log").c_str(), O_WRONLY | O_CREAT,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t child = -1;
  ASSERT_EQ(posix_spawn(&child, self.c_str(), &fa, nullptr, argv.data(), envp.data()), 0);
  posix_spawn_file_actions_destroy(&fa);
  // The delivery has begun when the hung program wrote its pid.
  const bool started = WaitFor(
      [&] { return ReadFile(dir.path() + "/hung.pid").find('\n') != std::string::npos; }, 20);
  ::kill(child, SIGKILL);
  int st = 0;
  ::waitpid(child, &st, 0);
  const pid_t hung = static_cast<pid_t>(std::atoi(ReadFile(dir.path() + "/hung.pid").c_str()));
  if (hung > 0) ::kill(-hung, SIGKILL);  // its own process group outlives the parent
  ASSERT_TRUE(started) << ReadFile(dir.path() + "/child.log");
  EXPECT_TRUE(WIFSIGNALED(st));

  // Restart with a working program under the same channel name.
  SystemClock clock;
  auto ob = OpenOutbox(dir.path(), clock);
  ASSERT_TRUE(ob);
  const std::string id = "c0ffee00-0000-4000-8000-000000000001";
  auto item = Item0(*ob, id);
  ASSERT_TRUE(item);
  EXPECT_EQ(item->state, "pending");  // was "sending" when the process died
  std::string errors;
  auto cfg = NotifyFromYaml(
      "notify: [{name: pager, type: command, shell: true, command: "
      "\"echo $MAMORI_NOTIFICATION_ID >> " +
          (dir.path() + "/delivered") + "\"}]",
      &errors);
  ASSERT_EQ(errors, "");
  ob->SetChannels(cfg.channels);
  ASSERT_TRUE(WaitFor([&] { return Item0(*ob, id)->state == "delivered"; }));
  EXPECT_EQ(ReadFile(dir.path() + "/delivered"), id + "\n");
  auto attempts = ob->Attempts(id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[1].outcome, "interrupted");
  EXPECT_EQ((*attempts)[0].outcome, "delivered");
  // The interruption is not a channel failure.
  EXPECT_EQ(HealthOf(*ob, "pager").consecutive_failures, 0);
}

// A delivery the receiver accepted is not sent again because its outcome
// could not be written. Here another process (a sqlite3 shell, a backup tool)
// holds outbox.db's write lock past the busy timeout just as the receiver
// answers, so recording the attempt fails. The outbox keeps the outcome and
// records it once the lock is free; a restart then finds the item delivered.
TEST(NotifyOutbox, DeliveryWhoseRecordFailsIsRecordedLaterNotSentTwice) {
  TempDir dir;
  FakeClock clock;
  const std::string data = dir.path() + "/data";
  const std::string sent = dir.path() + "/sent", go = dir.path() + "/go";
  std::string errors;
  // Records the id, then answers only once the test says so (at most 10 s).
  auto cfg = NotifyFromYaml(
      "notify: [{name: pager, type: command, shell: true, timeout: 30s, "
      "command: \"echo $MAMORI_NOTIFICATION_ID >> " +
          sent + "; i=0; while [ ! -e " + go +
          " ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\"}]",
      &errors);
  ASSERT_EQ(errors, "");
  const Notification n = Problem(clock);
  {
    OutboxOptions options;
    options.busy_timeout = 200ms;
    auto ob = Outbox::Open(data, clock, options);
    ASSERT_TRUE(ob.ok()) << ob.error().message();
    (*ob)->SetChannels(cfg.channels);
    ASSERT_TRUE((*ob)->Enqueue(n, {"pager"}).ok());
    // The item is committed as "sending" before the command starts.
    ASSERT_TRUE(WaitFor([&] { return ReadFile(sent) == n.id + "\n"; }));
    auto locker = sqlite::Db::Open((*ob)->path(), sqlite::Db::Mode::kReadWrite);
    ASSERT_TRUE(locker.ok()) << locker.error().message();
    {
      auto lock = sqlite::Transaction::Begin(*locker);
      ASSERT_TRUE(lock.ok()) << lock.error().message();
      std::ofstream(go).put('\n');
      // The receiver has answered; writing that down fails while the lock is held.
      ASSERT_TRUE(WaitFor([&] { return !HealthOf(**ob, "pager").record_error.empty(); }));
      EXPECT_NE(HealthOf(**ob, "pager").record_error.find("database is locked"), std::string::npos)
          << HealthOf(**ob, "pager").record_error;
      EXPECT_EQ(Item0(**ob, n.id)->state, "sending");
    }  // the lock is released (rolled back)
    EXPECT_TRUE(WaitFor([&] { return Item0(**ob, n.id)->state == "delivered"; }));
    EXPECT_EQ(HealthOf(**ob, "pager").record_error, "");
    auto attempts = (*ob)->Attempts(n.id);
    ASSERT_TRUE(attempts.ok());
    ASSERT_EQ(attempts->size(), 1u);
    EXPECT_TRUE((*attempts)[0].ok());
  }  // "daemon stops"
  {
    auto ob = OpenOutbox(data, clock);
    ASSERT_TRUE(ob);
    ob->SetChannels(cfg.channels);
    Notification marker = Problem(clock, "marker");
    ASSERT_TRUE(ob->Enqueue(marker, {"pager"}).ok());
    ASSERT_TRUE(WaitFor([&] { return Item0(*ob, marker.id)->state == "delivered"; }));
    // The channel goes oldest first: a re-sent item would come before the marker.
    EXPECT_EQ(ReadFile(sent), n.id + "\n" + marker.id + "\n");
  }
}

}  // namespace
}  // namespace mamori::notify
