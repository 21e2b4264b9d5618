#include "mamori/logs/ask.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "mamori/logs/redact.h"
#include "mamori/logs/scanner_cache.h"
#include "mamori/store/store.h"
#include "mamori/util/units.h"

namespace mamori::logs {
namespace {

constexpr size_t kMaxChecks = 50, kMaxFindings = 10, kMaxEvidence = 3, kMaxTried = 50;
constexpr size_t kMaxNovel = 20;

std::string Iso(const std::optional<WallTime>& t) {
  return t ? FormatLocalTime(*t, "%Y-%m-%dT%H:%M:%S%z") : "unknown";
}

// The finding as the assistant needs it: what, how often, evidence, the
// runbook with each step's outcome so far.
std::string FindingBlock(const Finding& f, const std::vector<StepAttempt>& attempts, size_t* n) {
  auto r = [n](std::string_view s) { return Redact(s, n); };
  std::string o = fmt::format("[{}] {}: {} ({}x, last {})\n", SeverityName(f.severity),
                              r(f.signature), r(f.summary), f.count, Iso(f.last_seen));
  for (size_t i = 0; i < f.evidence.size() && i < kMaxEvidence; ++i)
    o += fmt::format("  {}:{}: {}\n", r(f.evidence[i].file), f.evidence[i].line,
                     r(f.evidence[i].text));
  for (const auto& s : f.suspects) o += "  suspect: " + r(s.what) + "\n";
  if (!f.explanation.empty()) o += "  meaning: " + r(f.explanation) + "\n";
  for (size_t i = 0; i < f.runbook.size(); ++i) {
    const StepAttempt* a = LatestAttempt(attempts, f.signature, static_cast<int>(i + 1));
    o += fmt::format("  step {}: {}{}{}\n", i + 1, r(f.runbook[i].step),
                     f.runbook[i].command.empty() ? "" : " `" + r(f.runbook[i].command) + "`",
                     !a      ? ""
                     : a->ok ? " (done: ok)"
                             : " (TRIED, FAILED)");
  }
  return o;
}

// `text` cut at a line boundary to `share` bytes, saying what was cut.
std::string Fit(const std::string& text, size_t share, size_t* cut) {
  if (text.size() <= share) return text;
  const std::string note_fmt = "[... {} bytes cut: this section's share of the bundle is {}]\n";
  const size_t room = share > 80 ? share - 80 : 0;
  size_t end = text.rfind('\n', room);
  end = end == std::string::npos ? 0 : end + 1;
  *cut += text.size() - end;
  return text.substr(0, end) + fmt::format(fmt::runtime(note_fmt), text.size() - end, share);
}

std::string Lines(const std::vector<std::string>& v, std::string_view none) {
  if (v.empty()) return std::string(none) + "\n";
  std::string o;
  for (const auto& s : v) o += s.back() == '\n' ? s : s + "\n";
  return o;
}

std::string Normalize(std::string_view cmd) {
  std::string out;
  std::istringstream in{std::string(cmd)};
  std::string w;
  while (in >> w) {
    if (out.empty() && w == "sudo") continue;
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace

BundleInputs CollectBundleInputs(const std::string& question, const DiagnoseReport& report,
                                 const std::vector<StepAttempt>& attempts,
                                 const std::string& data_dir, const std::string& host_facts,
                                 size_t* n) {
  auto r = [n](std::string_view s) { return Redact(s, n); };
  BundleInputs in;
  in.question = r(question);
  in.host = r(host_facts);
  if (!data_dir.empty()) {
    SystemClock clock;
    if (auto store = Store::Open(data_dir, clock, Store::OpenMode::kReadOnly); store.ok())
      if (auto snaps = (*store)->LoadSnapshots(); snaps.ok())
        for (size_t i = 0; i < snaps->size() && i < kMaxChecks; ++i) {
          const CheckSnapshot& s = (*snaps)[i];
          in.checks.push_back(fmt::format(
              "{} ({}): {} - {}{}", r(s.name), r(s.type), StatusLabel(s.last), r(s.summary),
              s.hard && *s.hard != CheckStatus::kOk ? " (since " + Iso(s.hard_since) + ")" : ""));
        }
  }
  for (size_t i = 0; i < report.findings.size() && i < kMaxFindings; ++i)
    in.findings.push_back(FindingBlock(report.findings[i], attempts, n));
  const size_t start = attempts.size() > kMaxTried ? attempts.size() - kMaxTried : 0;
  for (size_t k = start; k < attempts.size(); ++k) {
    const auto& a = attempts[k];
    in.tried.push_back(fmt::format("{} {} step {}: {}{}", Iso(a.time), r(a.finding), a.step,
                                   a.ok ? "ok" : "FAILED",
                                   a.note.empty() ? "" : " - " + r(a.note)));
  }
  for (size_t i = 0; i < report.novel.size() && i < kMaxNovel; ++i) {
    const auto& nf = report.novel[i];
    in.novel.push_back(fmt::format("{}x {}", nf.count, r(nf.template_text.substr(0, 300))));
    if (!nf.evidence.empty())
      in.novel.push_back(fmt::format("   e.g. {}", r(nf.evidence[0].text.substr(0, 300))));
  }
  return in;
}

Bundle BuildBundle(const BundleInputs& in, size_t max) {
  Bundle b;
  auto share = [max](int pct) { return max * pct / 100; };
  const std::string question = Fit(in.question + "\n", share(5), &b.cut_bytes);
  const std::string host = Fit(in.host, share(5), &b.cut_bytes);
  const std::string checks =
      Fit(Lines(in.checks, "(no check history here)"), share(15), &b.cut_bytes);
  const std::string findings =
      Fit(Lines(in.findings, "(no known problem in the logs)"), share(45), &b.cut_bytes);
  const std::string tried = Fit(Lines(in.tried, "(nothing recorded with `mamori runbook done`)"),
                                share(15), &b.cut_bytes);
  const std::string novel = Fit(Lines(in.novel, "(none)"), share(15), &b.cut_bytes);
  const std::string rest =
      "\n## Recent check states\n" + checks + "\n## Findings from the logs (mamori diagnose)\n" +
      findings + "\n## Already tried (runbook log; do not suggest a FAILED step again)\n" + tried +
      "\n## Error lines no rule knows\n" + novel;
  b.text = "## Question\n" + question + "\n## Host\n" + host + rest;
  b.identity = Sha256Hex(question + rest);
  if (b.text.size() > max) {  // the headings' few bytes on a tiny limit
    b.cut_bytes += b.text.size() - max;
    b.text.resize(max);
  }
  return b;
}

std::string_view SystemPrompt() {
  return "You help the operator of a small Linux server find out what is wrong and what to do "
         "next. The user message holds their question and what mamori found on the host: check "
         "states, log findings with evidence, and the runbook steps already tried. Be brief and "
         "concrete. Put every shell command in a fenced ```sh block, one command per line, "
         "safest first; say before a command that changes or deletes anything what it risks and "
         "how to undo it. Never suggest again a step listed as FAILED: say what to try instead, "
         "or that it is time to escalate. Secrets were replaced by [REDACTED].";
}

std::string ChatRequestBody(const std::string& model, const std::string& bundle_text) {
  nlohmann::json j = {{"model", model},
                      {"messages",
                       {{{"role", "system"}, {"content", std::string(SystemPrompt())}},
                        {{"role", "user"}, {"content", bundle_text}}}},
                      {"stream", false}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<ChatAnswer> ParseChatResponse(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error("the answer is not JSON");
  if (j.contains("error")) {
    const auto& e = j["error"];
    return Error("the endpoint says: " +
                 (e.is_object() && e.contains("message") && e["message"].is_string()
                      ? e["message"].get<std::string>()
                      : e.dump()));
  }
  const auto& choices = j.value("choices", nlohmann::json::array());
  if (!choices.is_array() || choices.empty() || !choices[0].is_object())
    return Error("the answer has no choices");
  const auto& msg = choices[0].value("message", nlohmann::json::object());
  if (!msg.is_object() || !msg.contains("content") || !msg["content"].is_string())
    return Error("the answer has no message content");
  ChatAnswer a;
  a.content = msg["content"].get<std::string>();
  if (j.contains("usage") && j["usage"].is_object()) {
    const auto& u = j["usage"];
    auto get = [&u](const char* k) -> std::optional<int64_t> {
      if (u.contains(k) && u[k].is_number_integer()) return u[k].get<int64_t>();
      return std::nullopt;
    };
    a.prompt_tokens = get("prompt_tokens");
    a.completion_tokens = get("completion_tokens");
    a.total_tokens = get("total_tokens");
  }
  return a;
}

std::vector<FailedStep> FailedSteps(const DiagnoseReport& report,
                                    const std::vector<StepAttempt>& attempts) {
  std::vector<FailedStep> out;
  for (const auto& f : report.findings)
    for (size_t i = 0; i < f.runbook.size(); ++i) {
      const StepAttempt* a = LatestAttempt(attempts, f.signature, static_cast<int>(i + 1));
      if (a && !a->ok)
        out.push_back({f.signature, static_cast<int>(i + 1), f.runbook[i].step,
                       f.runbook[i].command, a->time});
    }
  return out;
}

std::string RiskMark(StepRisk risk) {
  switch (risk) {
    case StepRisk::kReadOnly:
      return "[read-only]";
    case StepRisk::kReversible:
      return "[reversible]";
    case StepRisk::kDestructive:
      return "[DESTRUCTIVE]";
  }
  return "[?]";
}

ShownAnswer ShowAnswer(std::string_view answer, const std::vector<FailedStep>& failed) {
  ShownAnswer out;
  std::vector<std::string> lines;
  std::istringstream in{std::string(answer)};
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  for (const auto& c : ExtractCommands(answer)) {
    const std::string mark = RiskMark(ClassifyCommand(c.command));
    std::string repeat;
    const std::string norm = Normalize(c.command);
    for (const auto& f : failed) {
      const std::string fc = Normalize(f.command);
      if (fc.size() >= 6 && (norm == fc || norm.find(fc) != std::string::npos ||
                             (norm.size() >= 6 && fc.find(norm) != std::string::npos))) {
        repeat = fmt::format("  <- REPEATS a step that already FAILED ({} step {}, {})", f.finding,
                             f.step, FormatLocalTime(f.time, "%Y-%m-%d %H:%M"));
        ++out.repeats;
        break;
      }
    }
    if (c.line < lines.size()) lines[c.line] = mark + " " + lines[c.line] + repeat;
    out.command_lines.push_back(mark + " " + c.command + repeat);
  }
  for (const auto& l : lines) out.text += l + "\n";
  return out;
}

}  // namespace mamori::logs
