#include "mamori/logs/signature_scanner.h"

#include <hs/hs.h>
#include <re2/re2.h>

#include <fmt/format.h>
#include <algorithm>

#include "mamori/logs/scanner_cache.h"

namespace mamori::logs {

Result<std::unique_ptr<SignatureScanner>> SignatureScanner::Compile(RuleSet rules) {
  return Compile(std::move(rules), "");
}

Result<std::unique_ptr<SignatureScanner>> SignatureScanner::Compile(RuleSet rules,
                                                                    const std::string& cache_dir) {
  std::unique_ptr<SignatureScanner> s(new SignatureScanner());
  s->rules_ = std::move(rules);
  PatternSet set;
  for (uint32_t i = 0; i < s->rules_.signatures.size(); ++i) {
    const Signature& sig = s->rules_.signatures[i];
    for (const auto& p : sig.patterns) {
      set.expressions.push_back(p.c_str());
      set.flags.push_back(HS_FLAG_SINGLEMATCH | (sig.ignore_case ? HS_FLAG_CASELESS : 0));
      set.ids.push_back(static_cast<unsigned>(s->pattern_owner_.size()));
      s->pattern_owner_.push_back(i);
    }
    std::vector<std::unique_ptr<re2::RE2>> caps;
    for (const auto& c : sig.captures) {
      RE2::Options opt;
      opt.set_log_errors(false);
      opt.set_case_sensitive(!sig.ignore_case);
      opt.set_max_mem(8 << 20);
      auto re = std::make_unique<re2::RE2>(c, opt);
      if (!re->ok())
        return Error(
            fmt::format("signature '{}': RE2 rejects capture '{}': {}", sig.id, c, re->error()));
      caps.push_back(std::move(re));
    }
    s->captures_.push_back(std::move(caps));
  }
  if (set.expressions.empty()) return Error("no signatures to compile");
  const std::string key = cache_dir.empty() ? "" : DatabaseKey(set);
  s->db_ = LoadCachedDatabase(cache_dir, key);
  s->from_cache_ = s->db_ != nullptr;
  if (!s->db_) {
    if (Status st = s->CompileDatabase(set); !st.ok()) return st.error();
    s->cache_written_ = StoreCachedDatabase(cache_dir, key, s->db_);
  }
  if (hs_alloc_scratch(s->db_, &s->prototype_scratch_) != HS_SUCCESS)
    return Error("Hyperscan: cannot allocate scratch space");
  return s;
}

Status SignatureScanner::CompileDatabase(const PatternSet& set) {
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(set.expressions.data(), set.flags.data(), set.ids.data(),
                       static_cast<unsigned>(set.expressions.size()), HS_MODE_BLOCK, nullptr, &db_,
                       &err) == HS_SUCCESS)
    return Status::Ok();
  std::string msg = err ? err->message : "unknown error";
  std::string where;
  if (err && err->expression >= 0 && static_cast<size_t>(err->expression) < pattern_owner_.size()) {
    const Signature& sig = rules_.signatures[pattern_owner_[err->expression]];
    where = fmt::format("signature '{}' ({}:{}): pattern '{}': ", sig.id, sig.file, sig.line,
                        set.expressions[err->expression]);
  }
  hs_free_compile_error(err);
  return Error("Hyperscan: " + where + msg);
}

SignatureScanner::~SignatureScanner() {
  if (prototype_scratch_) hs_free_scratch(prototype_scratch_);
  if (db_) hs_free_database(db_);
}

std::vector<Field> SignatureScanner::Capture(uint32_t index, std::string_view line) const {
  std::vector<Field> fields;
  if (index >= captures_.size()) return fields;
  for (const auto& re : captures_[index]) {
    int n = re->NumberOfCapturingGroups();
    std::vector<re2::StringPiece> groups(n + 1);
    if (!re->Match(re2::StringPiece(line.data(), line.size()), 0, line.size(), re2::RE2::UNANCHORED,
                   groups.data(), n + 1))
      continue;
    for (const auto& group : re->NamedCapturingGroups()) {
      const std::string& name = group.first;
      int gi = group.second;
      if (gi > n || groups[gi].data() == nullptr) continue;
      bool have = std::any_of(fields.begin(), fields.end(),
                              [&name](const Field& f) { return f.name == name; });
      if (!have) fields.push_back({name, std::string(groups[gi].data(), groups[gi].size())});
    }
  }
  return fields;
}

std::string SignatureScanner::Summary(uint32_t index, std::string_view line) const {
  return RenderSummary(rules_.signatures[index].summary, Capture(index, line));
}

ScanSession::ScanSession(const SignatureScanner& scanner) : scanner_(scanner) {
  if (hs_clone_scratch(scanner.prototype_scratch_, &scratch_) != HS_SUCCESS) scratch_ = nullptr;
}

ScanSession::~ScanSession() {
  if (scratch_) hs_free_scratch(scratch_);
}

namespace {
int OnMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
  static_cast<std::vector<uint32_t>*>(ctx)->push_back(id);
  return 0;
}
}  // namespace

void ScanSession::MatchIds(std::string_view line, std::vector<uint32_t>* out) {
  out->clear();
  if (!scratch_) {
    ++errors_;
    return;
  }
  hits_.clear();
  // Hyperscan takes an unsigned int length; lines are bounded far below that
  // by the reader, but a direct caller may not be.
  size_t len = std::min<size_t>(line.size(), 0x7fffffff);
  const char* data = line.data() ? line.data() : "";
  if (hs_scan(scanner_.db_, data, static_cast<unsigned>(len), 0, scratch_, OnMatch, &hits_) !=
      HS_SUCCESS) {
    ++errors_;
    return;
  }
  if (hits_.empty()) return;
  for (uint32_t h : hits_) out->push_back(scanner_.pattern_owner_[h]);
  if (out->size() > 1) {
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
}

void ScanSession::Scan(std::string_view line, std::vector<Match>* out) {
  out->clear();
  MatchIds(line, &ids_);
  for (uint32_t id : ids_) out->push_back({id, scanner_.Capture(id, line)});
}

}  // namespace mamori::logs
