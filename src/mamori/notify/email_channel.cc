#include "mamori/notify/email_channel.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <time.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "mamori/notify/http_post.h"
#include "mamori/util/lazy_libraries.h"
#include "mamori/util/units.h"

namespace mamori::notify {
namespace {

constexpr size_t kMaxReplyLines = 200;
constexpr size_t kMaxReplyLine = 512;

// Forbids what would let an address break out of its header or SMTP command.
bool ValidAddress(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  const size_t at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == a.size()) return false;
  for (char c : a)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '<' || c == '>' || c == ',' || c == 0x7f)
      return false;
  return true;
}

std::string Base64(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

bool IsAscii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// Control characters (CR, LF above all) never reach a header.
std::string HeaderSafe(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  return out;
}

// RFC 2047 encoded words of at most 75 characters, cut at UTF-8 boundaries,
// folded onto continuation lines.
std::string EncodeSubject(const std::string& s) {
  if (IsAscii(s)) return s;
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t len = std::min<size_t>(45, s.size() - pos);
    while (pos + len < s.size() && len > 0 &&
           (static_cast<unsigned char>(s[pos + len]) & 0xC0) == 0x80)
      --len;
    if (len == 0) len = std::min<size_t>(45, s.size() - pos);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(std::string_view(s).substr(pos, len)) + "?=";
    pos += len;
  }
  return out;
}

// RFC 2045 quoted-printable with CRLF line ends and soft breaks at 76.
std::string QuotedPrintable(std::string_view text) {
  std::string out;
  size_t col = 0;
  auto put = [&](std::string_view piece) {
    if (col + piece.size() > 75) {
      out += "=\r\n";
      col = 0;
    }
    out += piece;
    col += piece.size();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      // Trailing white space before a line break must be encoded.
      if (!out.empty() && (out.back() == ' ' || out.back() == '\t')) {
        char last = out.back();
        out.pop_back();
        --col;
        put(fmt::format("={:02X}", static_cast<unsigned>(last)));
      }
      out += "\r\n";
      col = 0;
    } else if (c == '\r') {
      continue;
    } else if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      // A leading '.' is left to curl's SMTP dot-stuffing.
      put(std::string_view(reinterpret_cast<const char*>(&text[i]), 1));
    } else {
      put(fmt::format("={:02X}", static_cast<unsigned>(c)));
    }
  }
  return out;
}

std::string RfcDate(WallTime t) {
  time_t secs = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} +0000", days[tm.tm_wday],
                     tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec);
}

std::string Domain(const std::string& address, const std::string& fallback) {
  const size_t at = address.rfind('@');
  if (at != std::string::npos && at + 1 < address.size()) return address.substr(at + 1);
  return fallback.empty() ? "localhost" : fallback;
}

std::string ToCrlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

bool PlainAsciiLines(std::string_view text) {
  size_t line = 0;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') return false;
    line = c == '\n' ? 0 : line + 1;
    if (line > 900) return false;
  }
  return true;
}

// The conversation, as the server's reply lines.
struct Transcript {
  std::vector<std::string> lines;

  // The last complete reply (all its lines, the codes stripped from
  // continuation lines), skipping the goodbye to QUIT.
  std::string LastReply() const {
    int end = static_cast<int>(lines.size()) - 1;
    while (end >= 0) {
      const std::string& l = lines[static_cast<size_t>(end)];
      if (l.size() >= 4 && l[3] == ' ' && l.compare(0, 3, "221") != 0) break;
      if (l.size() == 3 && l.compare(0, 3, "221") != 0) break;
      --end;
    }
    if (end < 0) return "";
    int begin = end;
    while (begin > 0) {
      const std::string& prev = lines[static_cast<size_t>(begin - 1)];
      if (prev.size() >= 4 && prev[3] == '-' &&
          prev.compare(0, 3, lines[static_cast<size_t>(end)], 0, 3) == 0)
        --begin;
      else
        break;
    }
    std::string out;
    for (int i = begin; i <= end; ++i) {
      const std::string& l = lines[static_cast<size_t>(i)];
      if (i == begin) {
        out = l.substr(0, 3) + " " + (l.size() > 4 ? l.substr(4) : "");
      } else {
        out += " " + (l.size() > 4 ? l.substr(4) : "");
      }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }
};

int OnDebug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;
  auto* t = static_cast<Transcript*>(user);
  std::string_view chunk(data, size);
  while (!chunk.empty() && t->lines.size() < kMaxReplyLines) {
    size_t nl = chunk.find('\n');
    std::string_view line = chunk.substr(0, nl);
    chunk = nl == std::string_view::npos ? std::string_view() : chunk.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.empty()) continue;
    t->lines.push_back(HeaderSafe(line.substr(0, kMaxReplyLine)));
  }
  return 0;
}

struct Upload {
  const std::string* data;
  size_t pos = 0;
};

size_t OnRead(char* buf, size_t size, size_t nmemb, void* user) {
  auto* u = static_cast<Upload*>(user);
  const size_t n = std::min(size * nmemb, u->data->size() - u->pos);
  std::memcpy(buf, u->data->data() + u->pos, n);
  u->pos += n;
  return n;
}

}  // namespace

std::string BuildMessage(const EmailOptions& o, const Notification& n) {
  std::string subject = Title(n);
  if (!o.subject_prefix.empty()) subject = o.subject_prefix + " " + subject;
  subject = CapUtf8(HeaderSafe(subject), 250);
  std::string to;
  for (const auto& r : o.to) to += (to.empty() ? "" : ", ") + r;
  std::string m;
  m += "Date: " + RfcDate(n.time) + "\r\n";
  m += "From: " + o.from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + EncodeSubject(subject) + "\r\n";
  m += "Message-ID: <" + HeaderSafe(n.id) + "@" + Domain(o.from, o.helo) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "X-Mamori-Notification: " + HeaderSafe(n.id) + "\r\n";
  m += "X-Mamori-Kind: " + std::string(KindName(n.kind)) + "\r\n";
  if (!n.items.empty()) {
    m += "X-Mamori-Check: " + HeaderSafe(n.items[0].check) + "\r\n";
    m += "X-Mamori-State: " + std::string(StatusName(n.items[0].to)) + "\r\n";
  }
  const std::string body = TextBody(n);
  if (PlainAsciiLines(body)) {
    m += "Content-Type: text/plain; charset=us-ascii\r\n";
    m += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    m += ToCrlf(body);
  } else {
    m += "Content-Type: text/plain; charset=utf-8\r\n";
    m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    m += QuotedPrintable(body);
  }
  return m;
}

EmailChannel::EmailChannel(std::string name, EmailOptions options)
    : Channel(std::move(name), "email"), o_(std::move(options)) {}

std::string EmailChannel::Describe() const {
  std::string to;
  for (const auto& r : o_.to) to += (to.empty() ? "" : ", ") + r;
  return fmt::format("mail to {} via {}", to, o_.smtp);
}

Result<std::string> EmailChannel::Deliver(const Notification& n) {
  EnsureCurlInitialised();
  std::string to;
  for (const auto& r : o_.to) to += (to.empty() ? "" : ", ") + r;
  const std::string message = BuildMessage(o_, n);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl)
    return Error(
        fmt::format("mail to {}: {}", to,
                    util::Unavailable(util::LazyLibCurl(), "cannot create a curl handle")));
  CURL* h = curl.get();
  struct curl_slist* rcpt = nullptr;
  for (const auto& r : o_.to) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt_guard(rcpt, curl_slist_free_all);
  // The URL's path is the EHLO name.
  std::string url = o_.smtp;
  const size_t scheme_end = url.find("://");
  if (url.find('/', scheme_end + 3) == std::string::npos) url += "/" + o_.helo;
  Transcript transcript;
  Upload upload{&message};
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string from = "<" + o_.from + ">";
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
  curl_easy_setopt(h, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, OnDebug);
  curl_easy_setopt(h, CURLOPT_DEBUGDATA, &transcript);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::chrono::duration_cast<Millis>(o_.timeout).count()));
  long use_ssl = CURLUSESSL_NONE;
  if (o_.tls == EmailOptions::Tls::kTry) use_ssl = CURLUSESSL_TRY;
  if (o_.tls == EmailOptions::Tls::kStartTls) use_ssl = CURLUSESSL_ALL;
  curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, o_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, o_.verify_tls ? 2L : 0L);
  if (!o_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o_.ca_file.c_str());
  if (!o_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, o_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, o_.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(h);
  const std::string reply = transcript.LastReply();
  if (rc == CURLE_OK) return reply.empty() ? std::string("accepted") : reply;
  // A reply of 4xx/5xx is the server's verdict; anything else is the way there.
  if (reply.size() >= 3 && (reply[0] == '4' || reply[0] == '5'))
    return Error(fmt::format("mail to {} rejected: {}", to, reply));
  std::string why = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  if (!reply.empty()) why += " (last reply: " + reply + ")";
  return Error(fmt::format("mail to {} via {} failed: {}", to, o_.smtp, why));
}

std::unique_ptr<Channel> MakeEmailChannel(const std::string& name, config::ConfigNode& node,
                                          const ChannelContext& ctx) {
  EmailOptions o;
  bool ok = true;
  auto smtp = node.GetString("smtp");
  if (!smtp) {
    node.Error("missing 'smtp'",
               "give the relay as a URL: smtp://mail.example.org:587 (STARTTLS) or "
               "smtps://mail.example.org:465 (implicit TLS)");
    ok = false;
  } else if (smtp->rfind("smtp://", 0) != 0 && smtp->rfind("smtps://", 0) != 0) {
    node.ErrorAt("smtp", fmt::format("'{}' is not an smtp:// or smtps:// URL", *smtp),
                 "e.g. smtp://127.0.0.1:25 or smtps://mail.example.org:465");
    ok = false;
  } else if (smtp->size() <= (smtp->rfind("smtps://", 0) == 0 ? 8u : 7u)) {
    node.ErrorAt("smtp", "the URL has no host", "e.g. smtp://127.0.0.1:25");
    ok = false;
  } else {
    o.smtp = *smtp;
  }
  auto from = node.GetString("from");
  if (!from) {
    node.Error("missing 'from'",
               "set the sender address, e.g. from: mamori@example.org (a domain whose SPF/DKIM "
               "the relay satisfies, or DMARC will reject the mail)");
    ok = false;
  } else if (!ValidAddress(*from)) {
    node.ErrorAt("from", fmt::format("'{}' is not a plain e-mail address", *from),
                 "write just the address, e.g. mamori@example.org");
    ok = false;
  } else {
    o.from = *from;
  }
  auto to = node.GetStringList("to");
  if (!to || to->empty()) {
    node.Error("missing 'to'", "list the recipients, e.g. to: [ops@example.org]");
    ok = false;
  } else if (to->size() > 100) {
    node.ErrorAt("to", "more than 100 recipients", "use a mailing list address");
    ok = false;
  } else {
    for (const auto& r : *to) {
      if (!ValidAddress(r)) {
        node.ErrorAt("to", fmt::format("'{}' is not a plain e-mail address", r),
                     "write just the address, e.g. ops@example.org");
        ok = false;
      }
    }
    o.to = *to;
  }
  o.username = node.GetString("username").value_or("");
  o.password = node.GetString("password").value_or("");
  if (auto pf = node.GetString("password_file")) {
    std::ifstream in(*pf);
    std::stringstream ss;
    if (!in) {
      node.ErrorAt("password_file", fmt::format("cannot read '{}'", *pf),
                   "give a readable file holding only the password");
      ok = false;
    } else {
      ss << in.rdbuf();
      std::string p = ss.str().substr(0, 4096);
      while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
      o.password = p;
    }
  }
  if (!o.password.empty() && o.username.empty()) {
    node.Error("a password without 'username'", "add username: (the SMTP login)");
    ok = false;
  }
  const bool implicit = o.smtp.rfind("smtps://", 0) == 0;
  o.tls = implicit ? EmailOptions::Tls::kImplicit
                   : (o.username.empty() ? EmailOptions::Tls::kTry : EmailOptions::Tls::kStartTls);
  if (auto t = node.GetString("tls")) {
    if (*t == "none")
      o.tls = EmailOptions::Tls::kNone;
    else if (*t == "try")
      o.tls = EmailOptions::Tls::kTry;
    else if (*t == "starttls")
      o.tls = EmailOptions::Tls::kStartTls;
    else if (*t == "implicit")
      o.tls = EmailOptions::Tls::kImplicit;
    else {
      node.ErrorAt("tls", fmt::format("unknown tls mode '{}'", *t),
                   "use none, try (STARTTLS when offered), starttls (required) or implicit "
                   "(with an smtps:// URL)");
      ok = false;
    }
    if (ok && implicit != (o.tls == EmailOptions::Tls::kImplicit)) {
      node.ErrorAt("tls", "tls: implicit goes with smtps:// URLs and only with them",
                   "use smtps://host:465 with implicit, smtp://host:587 with starttls");
      ok = false;
    }
  }
  o.verify_tls = node.GetBool("verify_tls").value_or(true);
  o.ca_file = node.GetString("ca_file").value_or("");
  if (auto t = node.GetDuration("timeout")) {
    if (*t < std::chrono::seconds(1) || *t > std::chrono::minutes(10)) {
      node.ErrorAt("timeout", "must be between 1s and 10m", "the default is 30s");
      ok = false;
    } else {
      o.timeout = *t;
    }
  }
  if (auto p = node.GetString("subject_prefix")) o.subject_prefix = HeaderSafe(*p);
  o.helo = node.GetString("helo").value_or(ctx.host.empty() ? "localhost" : ctx.host);
  if (o.helo.find_first_of(" /\r\n\t") != std::string::npos || o.helo.empty()) {
    node.ErrorAt("helo", fmt::format("'{}' is not a host name", o.helo),
                 "the name mamori gives in EHLO, e.g. helo: web1.example.org");
    ok = false;
  }
  if (!ok) return nullptr;
  return std::make_unique<EmailChannel>(name, std::move(o));
}

}  // namespace mamori::notify

namespace mamori::channels::email {

void Register(notify::ChannelRegistry& registry) {
  registry.Add({"email", "e-mail through an SMTP relay (STARTTLS, implicit TLS, AUTH)",
                notify::MakeEmailChannel});
}

}  // namespace mamori::channels::email
