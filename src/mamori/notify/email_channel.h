// Channel type `email`: SMTP through libcurl (plain, opportunistic or required
// STARTTLS, implicit TLS, AUTH), one message per notification with a plain
// text body.
//
// The message is built by BuildMessage (exposed for tests): RFC 5322 headers
// with Date (the notification's time), a Message-ID derived from the
// notification id (so a retry after a lost answer is recognisably the same
// message), an RFC 2047 encoded Subject when it is not ASCII, Auto-Submitted
// (RFC 3834, so auto-responders stay quiet) and X-Mamori-* headers for filters.
// The body is 7bit when it can be, quoted-printable otherwise.
//
// Every reply line of the server is kept; the answer of a delivery is the
// server's reply to the end of the message, and a refusal is reported with the
// server's reply verbatim ("mail to ops@example.org rejected: 550 5.7.1 ...").
// Thread-safe: Deliver uses a fresh curl handle per call.
#pragma once

#include <string>
#include <vector>

#include "mamori/notify/channel.h"

namespace mamori::notify {

struct EmailOptions {
  std::string smtp;  // smtp://host[:port] or smtps://host[:port]
  std::string from;
  std::vector<std::string> to;
  std::string username, password;
  enum class Tls { kNone, kTry, kStartTls, kImplicit } tls = Tls::kTry;
  bool verify_tls = true;
  std::string ca_file;
  Duration timeout = std::chrono::seconds(30);
  std::string subject_prefix = "[mamori]";
  std::string helo;  // EHLO name; the host name when empty
};

class EmailChannel final : public Channel {
 public:
  EmailChannel(std::string name, EmailOptions options);
  std::string Describe() const override;
  Result<std::string> Deliver(const Notification& n) override;
  const EmailOptions& options() const { return o_; }

 private:
  EmailOptions o_;
};

// The complete message (headers, blank line, body) with CRLF line ends.
std::string BuildMessage(const EmailOptions& o, const Notification& n);

}  // namespace mamori::notify
