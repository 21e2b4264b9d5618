// SignatureScanner: matches log lines against every signature of a RuleSet at
// once.
//
// All patterns of all signatures are compiled into one Hyperscan block-mode
// database (HS_FLAG_SINGLEMATCH, so each pattern reports at most once per
// line); RE2 runs only on lines that matched, to pull out the fields of the
// signatures that matched. Scanning cost is therefore one pass over the line
// whatever the number of signatures.
//
// Thread-safety: a SignatureScanner is immutable after Compile and may be
// shared by any number of threads; each thread scans through its own
// ScanSession (which owns the Hyperscan scratch space). Failures: Compile
// returns an error naming the signature whose pattern Hyperscan rejected; a
// scan never fails on any input bytes (a Hyperscan runtime error is reported as
// no match and counted in ScanSession::errors()).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/logs/rule.h"
#include "mamori/util/result.h"

struct hs_database;
struct hs_scratch;

namespace re2 {
class RE2;
}

namespace mamori::logs {

struct PatternSet;  // scanner_cache.h

struct Match {
  uint32_t signature = 0;  // index into SignatureScanner::rules().signatures
  std::vector<Field> fields;
};

class SignatureScanner {
 public:
  static Result<std::unique_ptr<SignatureScanner>> Compile(RuleSet rules);
  // Like Compile, with the Hyperscan database taken from (or, after
  // compiling, stored into) the cache directory `cache_dir` (empty: no
  // cache). The cache never makes this fail (scanner_cache.h).
  static Result<std::unique_ptr<SignatureScanner>> Compile(RuleSet rules,
                                                           const std::string& cache_dir);
  ~SignatureScanner();
  SignatureScanner(const SignatureScanner&) = delete;
  SignatureScanner& operator=(const SignatureScanner&) = delete;

  const RuleSet& rules() const { return rules_; }
  const Signature& signature(uint32_t index) const { return rules_.signatures[index]; }
  size_t pattern_count() const { return pattern_owner_.size(); }
  // Whether the database came from the cache, and whether a compiled one was
  // written to it.
  bool from_cache() const { return from_cache_; }
  bool cache_written() const { return cache_written_; }

  // The fields the captures of signature `index` find in `line`.
  std::vector<Field> Capture(uint32_t index, std::string_view line) const;
  // The signature's summary rendered with the fields of `line`.
  std::string Summary(uint32_t index, std::string_view line) const;

 private:
  friend class ScanSession;
  SignatureScanner() = default;
  Status CompileDatabase(const PatternSet& set);

  RuleSet rules_;
  hs_database* db_ = nullptr;
  hs_scratch* prototype_scratch_ = nullptr;
  std::vector<uint32_t> pattern_owner_;  // Hyperscan id -> signature index
  // Per signature, its compiled captures (RE2 objects owned here).
  std::vector<std::vector<std::unique_ptr<re2::RE2>>> captures_;
  bool from_cache_ = false;
  bool cache_written_ = false;
};

// One thread's scanning state. Not thread-safe; cheap to keep per thread,
// must not outlive its scanner.
class ScanSession {
 public:
  explicit ScanSession(const SignatureScanner& scanner);
  ~ScanSession();
  ScanSession(const ScanSession&) = delete;
  ScanSession& operator=(const ScanSession&) = delete;

  // Appends to `out` the indices of the signatures matching `line`, ascending
  // and without duplicates. `out` is cleared first. The fast path: no RE2.
  void MatchIds(std::string_view line, std::vector<uint32_t>* out);
  // Like MatchIds, with each matched signature's fields captured.
  void Scan(std::string_view line, std::vector<Match>* out);

  uint64_t errors() const { return errors_; }
  const SignatureScanner& scanner() const { return scanner_; }

 private:
  const SignatureScanner& scanner_;
  hs_scratch* scratch_ = nullptr;
  std::vector<uint32_t> hits_;
  std::vector<uint32_t> ids_;
  uint64_t errors_ = 0;
};

}  // namespace mamori::logs
