#include "mamori/logs/redact.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <vector>

namespace mamori::logs {
namespace {

struct Rule {
  std::unique_ptr<re2::RE2> re;
  std::string rewrite;
};

// Key names whose values are secrets. "pass" alone is too common in log text
// ("pass 2 of 3"); the key forms below need an = or : after it anyway.
constexpr const char* kSecretKey =
    R"([A-Za-z0-9_.-]*(?i:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|)"
    R"(access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|auth[_-]?key)[A-Za-z0-9_.-]*)";

std::vector<Rule> MakeRules() {
  const std::string key = kSecretKey;
  // Value forms: a quoted string or a run up to a separator.
  const std::string value = R"((\[REDACTED[^\]]*\]|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"',;&}\]]+))";
  const std::vector<std::pair<std::string, std::string>> specs = {
      // Private keys: the whole block, or everything after a BEGIN whose END
      // was cut off (a truncated line must not leak the rest).
      {R"((?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----)",
       "[REDACTED PRIVATE KEY]"},
      {R"((?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*)", "[REDACTED PRIVATE KEY]"},
      // user:password@ in URLs and DSNs.
      {R"(([A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*):[^\s/]+@)", R"(\1:[REDACTED]@)"},
      // Command-line forms: mysql -pSECRET, --password SECRET.
      {R"((\bmysql(?:dump|admin|check|import)?\b[^\n]*?\s-p)[^\s]+)", R"(\1[REDACTED])"},
      {R"((\s--?(?i:password|passwd|pass|token|secret|api-key|apikey)\s+)[^\s-][^\s]*)",
       R"(\1[REDACTED])"},
      // Authorization headers, whatever the scheme.
      {R"(((?i:proxy-authorization|authorization)["']?\s*[:=]\s*["']?)(?:(?i:bearer|basic|token|digest|negotiate)\s+)?[^\s"',]+)",
       R"(\1[REDACTED])"},
      {R"(((?i:bearer)\s+)[A-Za-z0-9._~+/=-]{8,})", R"(\1[REDACTED])"},
      // Token shapes.
      {R"(\bsk-[A-Za-z0-9_-]{16,})", "[REDACTED TOKEN]"},
      {R"(\bgh[pousr]_[A-Za-z0-9]{20,})", "[REDACTED TOKEN]"},
      {R"(\bgithub_pat_[A-Za-z0-9_]{20,})", "[REDACTED TOKEN]"},
      {R"(\bglpat-[A-Za-z0-9_-]{16,})", "[REDACTED TOKEN]"},
      {R"(\bxox[abposr]-[A-Za-z0-9-]{10,})", "[REDACTED TOKEN]"},
      {R"(\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)", "[REDACTED TOKEN]"},
      {R"(\bAIza[0-9A-Za-z_-]{30,})", "[REDACTED TOKEN]"},
      {R"(\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})", "[REDACTED TOKEN]"},
      // SQL: CREATE USER ... IDENTIFIED BY 'secret'.
      {R"(((?i:identified\s+(?:with\s+\S+\s+)?by)\s+)('[^']*'|"[^"]*"|\S+))", R"(\1'[REDACTED]')"},
      // JSON: "api_key": "value" (also a number or bare word).
      {R"re(("()re" + key + R"re()"\s*:\s*)("(?:[^"\\]|\\.)*"|[^\s,}\]]+))re", R"(\1"[REDACTED]")"},
      // key=value (shell, ini, libpq DSNs, query strings, --password=x).
      {R"((\b)" + key + R"(\s*=\s*))" + value, R"(\1[REDACTED])"},
  };
  std::vector<Rule> rules;
  for (const auto& [pattern, rewrite] : specs) {
    re2::RE2::Options opt;
    opt.set_log_errors(false);
    opt.set_max_mem(16 << 20);
    rules.push_back({std::make_unique<re2::RE2>(pattern, opt), rewrite});
  }
  return rules;
}

const std::vector<Rule>& Rules() {
  static const std::vector<Rule> rules = MakeRules();
  return rules;
}

// key: value (YAML, headers, log lines). Done by hand because "password: YES"
// (MySQL's "using password: YES") says nothing secret and is kept, and RE2
// has no lookahead to say so in the pattern.
std::string RedactColonValues(const std::string& in, size_t* n) {
  static const re2::RE2 re(
      std::string(R"((\b)") + kSecretKey +
      R"(\s*:\s+)(\[REDACTED[^\]]*\]|"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"',;&}\]]+))");
  std::string out;
  re2::StringPiece m[3];
  size_t pos = 0;
  while (pos < in.size() && re.Match(in, pos, in.size(), re2::RE2::UNANCHORED, m, 3)) {
    const size_t start = static_cast<size_t>(m[0].data() - in.data());
    const size_t value_at = static_cast<size_t>(m[2].data() - in.data());
    std::string value(m[2].data(), m[2].size());
    for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.append(in, pos, value_at - pos);
    if (value == "yes" || value == "no" || value == "yes)" || value == "no)") {
      out.append(m[2].data(), m[2].size());
    } else {
      out += kRedacted;
      ++*n;
    }
    pos = start + m[0].size();
    if (m[0].empty()) break;
  }
  out.append(in, std::min(pos, in.size()), std::string::npos);
  return out;
}

}  // namespace

std::string Redact(std::string_view text, size_t* count) {
  std::string out(text);
  size_t n = 0;
  for (const Rule& r : Rules()) {
    if (!r.re->ok()) continue;  // a bad expression is a programming error the tests catch
    n += static_cast<size_t>(re2::RE2::GlobalReplace(&out, *r.re, r.rewrite));
  }
  out = RedactColonValues(out, &n);
  if (count) *count += n;
  return out;
}

}  // namespace mamori::logs
