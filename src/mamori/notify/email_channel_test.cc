// The e-mail channel against a real aiosmtpd server on 127.0.0.1
// (tests/testing/smtp_sink.py): what arrives is parsed back and checked.
#include "mamori/notify/email_channel.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "testing/notify_servers.h"

namespace mamori::notify {
namespace {

using testing::NotifyFromYaml;
using testing::SmtpSink;

std::shared_ptr<Channel> Mail(const std::string& smtp, const std::string& extra = "") {
  std::string errors;
  auto cfg = NotifyFromYaml("notify: [{name: ops-mail, type: email, smtp: \"" + smtp +
                                "\", from: mamori@example.org, to: [ops@example.org, "
                                "dba@example.org]" +
                                extra + "}]",
                            &errors);
  EXPECT_EQ(errors, "");
  return cfg.channels.empty() ? nullptr : cfg.channels[0];
}

Notification Problem() {
  Notification n;
  n.id = NewNotificationId();
  n.kind = Kind::kProblem;
  n.time = std::chrono::system_clock::now();
  n.host = "db1";
  Item it;
  it.check = "backup-db";
  it.from = CheckStatus::kOk;
  it.to = CheckStatus::kCritical;
  it.summary = "pg_dump wrote 12 B";
  it.details = ".hidden line that starts with a dot\nsecond line";
  it.since = n.time - std::chrono::minutes(30);
  it.observations = {{n.time, CheckStatus::kCritical, "12 B"}};
  n.items.push_back(it);
  return n;
}

// Header value (unfolded) of a raw message; "" if absent.
std::string Header(const std::string& msg, const std::string& name) {
  const std::string head = "\r\n" + msg.substr(0, msg.find("\r\n\r\n")) + "\r\n";
  const size_t at = head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  std::string value;
  size_t pos = at + 2 + name.size() + 2;
  while (true) {
    const size_t end = head.find("\r\n", pos);
    value += head.substr(pos, end - pos);
    if (end + 2 < head.size() && (head[end + 2] == ' ' || head[end + 2] == '\t')) {
      value += ' ';
      pos = end + 3;
    } else {
      return value;
    }
  }
}

// "Thu, 01 Jan 2026 04:00:00 +0000"
bool IsRfc5322Date(const std::string& d) {
  char day[4] = {0}, mon[4] = {0}, zone[6] = {0};
  int dd = 0, yyyy = 0, hh = 0, mm = 0, ss = 0, n = 0;
  if (std::sscanf(d.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d %5s%n", day, &dd, mon, &yyyy, &hh, &mm,
                  &ss, zone, &n) != 8 ||
      static_cast<size_t>(n) != d.size() || d.size() != 31)
    return false;
  const std::string days = "Mon,Tue,Wed,Thu,Fri,Sat,Sun,";
  const std::string months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  return days.find(std::string(day, 3)) != std::string::npos && d[3] == ',' &&
         months.find(mon) % 3 == 0 && months.find(mon) != std::string::npos &&
         std::string(zone) == "+0000";
}

std::string Body(const std::string& msg) {
  const size_t end = msg.find("\r\n\r\n");
  return end == std::string::npos ? "" : msg.substr(end + 4);
}

TEST(NotifyEmail, DeliversAReadableMessageToARealSmtpServer) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  auto ch = Mail(smtp->Url());
  ASSERT_TRUE(ch);
  const Notification n = Problem();
  auto r = ch->Deliver(n);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "250 2.0.0 Ok: queued as TEST0001");
  auto msgs = smtp->Messages();
  ASSERT_EQ(msgs.size(), 1u);
  const std::string& m = msgs[0];
  EXPECT_EQ(Header(m, "Subject"), "[mamori] CRITICAL: backup-db (was OK)");
  EXPECT_EQ(Header(m, "Message-ID"), "<" + n.id + "@example.org>");
  EXPECT_EQ(Header(m, "From"), "mamori@example.org");
  EXPECT_EQ(Header(m, "To"), "ops@example.org, dba@example.org");
  EXPECT_EQ(Header(m, "Auto-Submitted"), "auto-generated");
  EXPECT_TRUE(IsRfc5322Date(Header(m, "Date"))) << Header(m, "Date");
  const std::string body = Body(m);
  EXPECT_NE(body.find("What:    pg_dump wrote 12 B\r\n"), std::string::npos) << body;
  EXPECT_NE(body.find("(30m 0s ago)"), std::string::npos) << body;
  EXPECT_NE(body.find("Last observations"), std::string::npos) << body;
  // The server un-stuffed curl's dot-stuffing: the line arrives intact.
  EXPECT_NE(body.find("\r\n.hidden line that starts with a dot\r\n"), std::string::npos) << body;
  EXPECT_NE(smtp->Messages()[0].find("Content-Transfer-Encoding: 7bit"), std::string::npos);
}

TEST(NotifyEmail, NonAsciiIsEncoded) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  auto ch = Mail(smtp->Url());
  ASSERT_TRUE(ch);
  Notification n = Problem();
  n.items[0].check = "sauvegarde-été";
  n.items[0].summary = "échec: " + std::string(1200, 'x');
  ASSERT_TRUE(ch->Deliver(n).ok());
  auto msgs = smtp->Messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_NE(Header(msgs[0], "Subject").find("=?UTF-8?B?"), std::string::npos);
  EXPECT_NE(msgs[0].find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  EXPECT_NE(Body(msgs[0]).find("=C3=A9chec"), std::string::npos);
  // No line longer than SMTP allows.
  for (size_t pos = 0, nl; (nl = msgs[0].find("\r\n", pos)) != std::string::npos; pos = nl + 2)
    EXPECT_LE(nl - pos, 998u);
}

TEST(NotifyEmail, RejectionCarriesTheServersExactReply) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  smtp->RejectWith("550 5.7.1 rejected by DMARC policy");
  auto ch = Mail(smtp->Url());
  ASSERT_TRUE(ch);
  auto r = ch->Deliver(Problem());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "mail to ops@example.org, dba@example.org rejected: 550 5.7.1 rejected by DMARC "
            "policy");
  EXPECT_TRUE(smtp->Messages().empty());
}

TEST(NotifyEmail, ServerDownIsAConnectionError) {
  std::string error;
  auto smtp = SmtpSink::Start(&error);
  ASSERT_TRUE(smtp) << error;
  smtp->Stop();
  auto ch = Mail(smtp->Url(), ", timeout: 5s");
  ASSERT_TRUE(ch);
  auto r = ch->Deliver(Problem());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("via " + smtp->Url() + " failed: "), std::string::npos)
      << r.error().message();
}

TEST(NotifyEmail, RequiredStarttlsWithOwnCa) {
  std::string error;
  auto smtp = SmtpSink::Start(&error, /*starttls=*/true);
  ASSERT_TRUE(smtp) << error;
  // Without TLS the server refuses: its words reach the error.
  auto plain = Mail(smtp->Url(), ", tls: none");
  ASSERT_TRUE(plain);
  auto r = plain->Deliver(Problem());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("rejected: 530"), std::string::npos) << r.error().message();
  // An untrusted certificate is refused by us.
  auto untrusted = Mail(smtp->Url(), ", tls: starttls");
  ASSERT_TRUE(untrusted);
  EXPECT_FALSE(untrusted->Deliver(Problem()).ok());
  auto tls = Mail(smtp->Url(), ", tls: starttls, ca_file: " + smtp->cert_file());
  ASSERT_TRUE(tls);
  auto ok = tls->Deliver(Problem());
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  EXPECT_EQ(smtp->Messages().size(), 1u);
}

}  // namespace
}  // namespace mamori::notify
