#include "mamori/heartbeat/ping.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>

namespace mamori::heartbeat {
namespace {

constexpr size_t kMaxTarget = 512;

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Applies the trailing action segment ("start", "fail", "log", "0".."255").
bool ApplyAction(std::string_view seg, PingTarget& t) {
  if (seg == "start") {
    t.kind = PingKind::kStart;
  } else if (seg == "fail") {
    t.kind = PingKind::kFail;
    t.exit_code = 1;
  } else if (seg == "log") {
    t.kind = PingKind::kLog;
  } else {
    unsigned code = 0;
    if (seg.empty() || seg.size() > 3) return false;
    auto [end, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), code);
    if (ec != std::errc() || end != seg.data() + seg.size() || code > 255) return false;
    t.kind = code == 0 ? PingKind::kSuccess : PingKind::kExitCode;
    t.exit_code = static_cast<int>(code);
  }
  return true;
}

}  // namespace

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!IsHex(s[i])) {
      return false;
    }
  }
  return true;
}

bool IsSlug(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  return true;
}

// healthchecks.io ping keys are URL-safe base64 tokens: mixed case.
bool IsPingKey(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
  return true;
}

std::string NewUuid() {
  unsigned char b[16] = {};
  std::ifstream("/dev/urandom", std::ios::binary).read(reinterpret_cast<char*>(b), sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:"
      "02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

Result<PingTarget> ParsePingTarget(std::string_view target) {
  if (target.size() > kMaxTarget) return Error("URL too long");
  std::string_view path = target, query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (path.substr(0, 6) != "/ping/") return Error("not a ping URL; use /ping/<uuid>");
  path.remove_prefix(6);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);

  std::string_view segs[4];
  size_t n = 0;
  while (!path.empty()) {
    if (n == 4) return Error("too many path segments");
    auto slash = path.find('/');
    segs[n++] = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  PingTarget t;
  t.exit_code = 0;
  if (n >= 1 && IsUuid(segs[0])) {
    t.uuid = Lower(segs[0]);
    if (n > 2) return Error("malformed ping URL; use /ping/<uuid>[/start|/fail|/log|/<exit code>]");
    if (n == 2 && !ApplyAction(segs[1], t))
      return Error("unknown ping action; use start, fail, log or an exit code 0-255");
  } else if (n >= 2) {
    if (!IsPingKey(segs[0]) || !IsSlug(segs[1]))
      return Error("malformed ping URL; use /ping/<uuid> or /ping/<key>/<slug>");
    t.key = std::string(segs[0]);
    t.slug = std::string(segs[1]);
    if (n > 3)
      return Error("malformed ping URL; use /ping/<key>/<slug>[/start|/fail|/log|/<exit code>]");
    if (n == 3 && !ApplyAction(segs[2], t))
      return Error("unknown ping action; use start, fail, log or an exit code 0-255");
  } else {
    return Error("malformed ping URL; use /ping/<uuid>");
  }
  if (t.kind == PingKind::kStart || t.kind == PingKind::kLog) t.exit_code = -1;

  // Only `rid` is understood; other parameters (create=1, ...) are ignored.
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.substr(0, 4) == "rid=") {
      std::string_view rid = kv.substr(4);
      if (!IsUuid(rid)) return Error("rid must be a UUID");
      t.rid = Lower(rid);
    }
  }
  return t;
}

}  // namespace mamori::heartbeat
