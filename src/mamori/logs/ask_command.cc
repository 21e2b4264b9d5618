#include "mamori/logs/ask_command.h"
#include "mamori/util/secret_file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>

#include "mamori/net/http_client.h"
#include "mamori/util/atomic_file.h"
#include "mamori/util/units.h"

namespace mamori::logs {
namespace {

constexpr int kExitRefused = 1, kExitUnknown = 3, kExitUsage = 64;
constexpr size_t kMaxHistory = 50;
constexpr size_t kMaxStoredAnswer = 8192;

std::string HistoryPath(const std::string& dir) { return dir + "/ask-history.json"; }

nlohmann::json LoadHistory(const std::string& dir) {
  std::ifstream in(HistoryPath(dir));
  auto j = nlohmann::json::parse(in, nullptr, false);
  return j.is_array() ? j : nlohmann::json::array();
}

void SaveHistory(const std::string& dir, nlohmann::json history, std::ostream& err) {
  while (history.size() > kMaxHistory) history.erase(history.begin());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (auto w = WriteFileAtomically(HistoryPath(dir), history.dump(1), 0600); !w.ok())
    err << "mamori ask: cannot keep the round history: " << w.error().message() << "\n";
}

// What counts as progress between rounds: other findings, or something new
// recorded with `mamori runbook done`.
std::string ProgressKey(const DiagnosisRun& run) {
  std::set<std::string> ids;
  for (const auto& f : run.report.findings) ids.insert(f.signature);
  std::string key = std::to_string(run.attempts.size());
  for (const auto& id : ids) key += "|" + id;
  return key;
}

size_t RoundsWithoutProgress(const nlohmann::json& history, const std::string& progress) {
  size_t n = 0;
  for (auto it = history.rbegin(); it != history.rend(); ++it, ++n)
    if (it->value("progress", "") != progress) break;
  return n;
}

std::string Escalation(const DiagnoseReport& report) {
  std::string o;
  if (!report.findings.empty() && !report.findings[0].runbook.empty()) {
    const Finding& f = report.findings[0];
    const RunbookStep& last = f.runbook.back();
    o += fmt::format("  the runbook of {} ends with: {}. {}{}\n", f.signature, f.runbook.size(),
                     last.step, last.command.empty() ? "" : " (`" + last.command + "`)");
  }
  o += "  take `mamori diagnose --context` to someone who knows this system (a colleague, the "
       "vendor's support, the project's forum) instead of asking again\n";
  return o;
}

int WriteBundleFile(const AskOptions& o, const std::string& body, const Bundle& b,
                    std::ostream& out, std::ostream& err) {
  std::error_code ec;
  std::filesystem::create_directories(o.state_dir, ec);
  const std::string stamp = FormatLocalTime(std::chrono::system_clock::now(), "%Y%m%d-%H%M%S");
  const std::string json = o.state_dir + "/ask-request-" + stamp + ".json";
  const std::string text = o.state_dir + "/ask-bundle-" + stamp + ".md";
  if (auto w = WriteFileAtomically(json, body, 0600); !w.ok()) {
    err << "mamori ask: " << w.error().message() << "\n";
    return kExitUnknown;
  }
  (void)WriteFileAtomically(text, b.text, 0600);
  out << "No assistant is configured (assistant: url in the configuration), so nothing was "
         "sent.\n"
      << fmt::format("The request ({} bytes, ~{} tokens, secrets redacted) is in\n  {}\n",
                     body.size(), EstimateTokens(body.size()), json)
      << "Send it to any OpenAI-compatible endpoint (llama.cpp server, Ollama, vLLM, a hosted "
         "API), e.g.:\n"
      << "  curl -sS http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: "
         "application/json' \\\n"
      << "    -H \"Authorization: Bearer $(cat ~/.config/mamori/api_key)\" --data-binary @" << json
      << "\n"
      << "or paste the bundle into a chat: " << text << "\n";
  return 0;
}

// POSTs `body`; the answer or why there is none. The transfer has its own
// timeout; the wait here is the backstop, so a server that accepts and never
// answers costs `timeout`, not more.
Result<HttpResponse> Send(const AssistantConfig& cfg, const std::string& body,
                          const std::string& api_key) {
  auto client = MakeHttpClient(1);
  HttpRequest req;
  req.url = cfg.url;
  req.method = "POST";
  req.body = body;
  req.timeout = cfg.timeout;
  req.max_body_bytes = 1 << 20;
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  if (!api_key.empty()) req.headers.push_back({"Authorization", "Bearer " + api_key});
  auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
  auto future = promise->get_future();
  client->Fetch(std::move(req),
                [promise](Result<HttpResponse> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(cfg.timeout + std::chrono::seconds(2)) != std::future_status::ready)
    return Error(fmt::format("no answer within {}", FormatDuration(cfg.timeout)));
  return future.get();
}

Result<std::string> ReadApiKey(const std::string& file) {
  if (file.empty()) return std::string();
  return ReadSecretFile(file, "api_key_file");
}

void PrintAnswer(const ChatAnswer& a, const std::vector<FailedStep>& failed, std::ostream& out) {
  ShownAnswer shown = ShowAnswer(a.content, failed);
  out << "\n" << shown.text;
  if (!shown.command_lines.empty()) {
    out << "\nCommands in this answer (nothing was run; read each before you run it):\n";
    for (const auto& l : shown.command_lines) out << "  " << l << "\n";
  }
  if (shown.repeats > 0)
    out << fmt::format(
        "\nWarning: {} command{} of this answer repeat{} a runbook step that already failed.\n",
        shown.repeats, shown.repeats == 1 ? "" : "s", shown.repeats == 1 ? "s" : "");
}

std::string UsageLine(const ChatAnswer& a, size_t bytes, double seconds) {
  std::string usage = "no usage reported";
  if (a.prompt_tokens || a.completion_tokens || a.total_tokens)
    usage = fmt::format(
        "usage: {} prompt + {} completion = {} tokens", a.prompt_tokens.value_or(0),
        a.completion_tokens.value_or(0),
        a.total_tokens.value_or(a.prompt_tokens.value_or(0) + a.completion_tokens.value_or(0)));
  return fmt::format("answer: {} bytes in {:.1f} s; {}\n", bytes, seconds, usage);
}

}  // namespace

int RunAskCommand(const AskOptions& o, std::ostream& out, std::ostream& err) {
  if (o.question.empty()) {
    err << "mamori ask: say what you want to know, e.g. mamori ask \"why is the blog down?\"\n";
    return kExitUsage;
  }
  DiagnosisRun run;
  if (int code = CollectDiagnosis(o.diagnose, err, &run); code >= 0) return code;
  size_t redactions = 0;
  const BundleInputs in =
      CollectBundleInputs(o.question, run.report, run.attempts, o.diagnose.data_dir,
                          o.host_facts.empty() ? HostFacts() : o.host_facts, &redactions);
  const Bundle bundle = BuildBundle(in, o.assistant.max_bundle_bytes);
  const std::string body = ChatRequestBody(o.assistant.model, bundle.text);
  const std::string size_line = fmt::format(
      "request: {} bytes (~{} tokens estimated; bundle {} of at most {} bytes{}), {} secret{} "
      "redacted\n",
      body.size(), EstimateTokens(body.size()), bundle.text.size(), o.assistant.max_bundle_bytes,
      bundle.cut_bytes ? fmt::format(", {} bytes cut", bundle.cut_bytes) : "", redactions,
      redactions == 1 ? "" : "s");
  if (o.show_bundle) {
    out << body;
    err << size_line;
    return 0;
  }
  nlohmann::json history = LoadHistory(o.state_dir);
  for (const auto& h : history)
    if (h.value("identity", "") == bundle.identity) {
      err << fmt::format(
          "mamori ask: refused: the same request (same question, findings, checks and attempts) "
          "was answered at {}. Try a step, record it with `mamori runbook done FINDING STEP "
          "--result ok|failed`, or ask something else.\n",
          h.value("time", "?"));
      return kExitRefused;
    }
  const std::string progress = ProgressKey(run);
  if (const size_t rounds = RoundsWithoutProgress(history, progress);
      rounds >= static_cast<size_t>(o.assistant.max_rounds)) {
    out << fmt::format(
               "{} rounds with the assistant without progress (the same findings, nothing new "
               "tried). Asking again will not help; escalate:\n",
               rounds)
        << Escalation(run.report);
    return kExitRefused;
  }
  if (o.assistant.url.empty()) return WriteBundleFile(o, body, bundle, out, err);
  auto key = ReadApiKey(o.assistant.api_key_file);
  if (!key.ok()) {
    err << "mamori ask: " << key.error().message() << "\n";
    return kExitUnknown;
  }
  out << fmt::format("asking {} (model {})\n", o.assistant.url, o.assistant.model) << size_line;
  const auto start = std::chrono::steady_clock::now();
  auto resp = Send(o.assistant, body, *key);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!resp.ok()) {
    err << "mamori ask: " << o.assistant.url << ": " << resp.error().message() << "\n";
    return kExitUnknown;
  }
  auto answer = ParseChatResponse(resp->body);
  if (resp->status != 200 || !answer.ok()) {
    err << fmt::format("mamori ask: {} answered HTTP {}: {}\n", o.assistant.url, resp->status,
                       answer.ok() ? resp->body.substr(0, 300) : answer.error().message());
    return kExitUnknown;
  }
  PrintAnswer(*answer, FailedSteps(run.report, run.attempts), out);
  out << "\n" << UsageLine(*answer, resp->body.size(), secs);
  history.push_back({{"time", FormatLocalTime(run.now, "%Y-%m-%d %H:%M:%S")},
                     {"identity", bundle.identity},
                     {"progress", progress},
                     {"answer", answer->content.substr(0, kMaxStoredAnswer)}});
  const size_t rounds = RoundsWithoutProgress(history, progress);
  if (rounds > 1)
    out << fmt::format(
        "round {} of {} without progress: record what you try with `mamori runbook done` so the "
        "next round knows\n",
        rounds, o.assistant.max_rounds);
  SaveHistory(o.state_dir, std::move(history), err);
  return 0;
}

}  // namespace mamori::logs
