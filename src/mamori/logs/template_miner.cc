#include "mamori/logs/template_miner.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <functional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace mamori::logs {
namespace {

constexpr std::uint32_t kVar = 0;  // interned id of "<*>"
// Also "<*>", for a column whose literal values batch mode found to vary: it is
// a word the message always has, unlike an optional masked value.
constexpr std::uint32_t kVaried = 1;
constexpr std::uint32_t kNone = 0xFFFFFFFFu;
constexpr char kVarByte = '\x01';

// Byte classes, so the hot loop is one table load per byte.
enum : std::uint8_t { kPlain = 0, kSpace = 1, kDigit = 2, kDelim = 4 };
constexpr std::array<std::uint8_t, 256> MakeClasses() {
  std::array<std::uint8_t, 256> c{};
  // 0x01 marks variables in pattern keys, so it must not appear in a word.
  for (char s : {' ', '\t', '\r', '\n', '\v', '\f', '\x01'}) {
    c[static_cast<unsigned char>(s)] = kSpace;
  }
  for (char s : {'=', ':', '|', ',', '(', ')', '[', ']', '{', '}', '<', '>', '"', '\'', ';'}) {
    c[static_cast<unsigned char>(s)] = kDelim;
  }
  for (int d = '0'; d <= '9'; ++d) c[d] = kDigit;
  return c;
}
constexpr std::array<std::uint8_t, 256> kClass = MakeClasses();

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Month and weekday names are timestamp parts whatever the source, so they are
// variables like the digits around them ("[Sun Dec 04 ...]", "Jul  1 ...").
bool IsCalendarWord(std::string_view t) {
  std::size_t b = 0, e = t.size();
  while (b < e && !IsAlpha(t[b])) ++b;
  while (e > b && !IsAlpha(t[e - 1])) --e;
  std::string_view w = t.substr(b, e - b);
  if (w.size() < 3 || w.size() > 9 || w[0] < 'A' || w[0] > 'Z') return false;
  static constexpr std::string_view kNames[] = {
      "Jan",       "Feb",      "Mar",       "Apr",      "May",      "Jun",      "Jul",    "Aug",
      "Sep",       "Oct",      "Nov",       "Dec",      "Mon",      "Tue",      "Wed",    "Thu",
      "Fri",       "Sat",      "Sun",       "January",  "February", "March",    "April",  "June",
      "July",      "August",   "September", "October",  "November", "December", "Monday", "Tuesday",
      "Wednesday", "Thursday", "Friday",    "Saturday", "Sunday"};
  for (std::string_view n : kNames) {
    if (n == w) return true;
  }
  return false;
}

// A word in capitals ("LOOKING", "FOLLOWING"): a state or constant named in
// the code, never a user's or a host's name.
bool IsUpperCase(std::string_view t) {
  int upper = 0;
  for (char c : t) {
    if (c >= 'a' && c <= 'z') return false;
    upper += c >= 'A' && c <= 'Z';
  }
  return upper >= 2;
}

// Host names and dotted identifiers (three or more labels) vary per line far
// more often than they name a message.
bool IsDomainLike(std::string_view t) {
  int dots = 0;
  for (std::size_t i = 1; i + 1 < t.size(); ++i) {
    if (t[i] == '.' && t[i - 1] != '.' && t[i + 1] != '.') ++dots;
  }
  return dots >= 2 && t.find_first_of("/_") == std::string_view::npos;
}

// A file path ("/var/vm/sleepimage"): which file a message names varies.
bool IsAbsolutePath(std::string_view t) {
  return t.size() > 2 && t[0] == '/' && t.find('/', 1) != std::string_view::npos;
}

// Whether `value` fits `shape`, a token whose variable parts are kVarByte:
// the literal parts in order, each variable standing for one or more bytes.
// Bounded: one variable is matched greedily by the next literal piece's first
// occurrence, so the cost is linear in the sizes.
bool FitsShape(std::string_view value, std::string_view shape) {
  std::size_t v = 0, s = 0;
  bool after_var = false;
  while (s < shape.size()) {
    if (shape[s] == kVarByte) {
      after_var = true;
      ++s;
      continue;
    }
    std::size_t e = shape.find(kVarByte, s);
    if (e == std::string_view::npos) e = shape.size();
    std::string_view piece = shape.substr(s, e - s);
    if (!after_var) {
      if (value.substr(v, piece.size()) != piece) return false;
      v += piece.size();
    } else if (e == shape.size()) {
      // The last piece ends the value.
      if (value.size() < v + 1 + piece.size() || !value.ends_with(piece)) return false;
      v = value.size();
    } else {
      std::size_t at = value.find(piece, v + 1);
      if (at == std::string_view::npos) return false;
      v = at + piece.size();
    }
    after_var = false;
    s = e;
  }
  return after_var ? v < value.size() : v == value.size();
}

// 64-bit hash, 8 bytes at a time (the keys are short and hashed once per line).
std::uint64_t HashBytes(std::string_view s) {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = 0x243F6A8885A308D3ull ^ (s.size() * kMul);
  const char* p = s.data();
  std::size_t n = s.size();
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  std::uint64_t v = 0;
  std::memcpy(&v, p, n);
  h = (h ^ v) * kMul;
  h ^= h >> 32;
  return h;
}

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return HashBytes(s); }
};

// Distinct masked token sequences, their interned tokens and line counts.
class PatternStore {
 public:
  explicit PatternStore(std::size_t max_patterns) : max_patterns_(max_patterns) {
    names_.emplace_back("<*>");
    token_index_.emplace(names_[0], kVar);
    names_.emplace_back("<*>");  // kVaried, never looked up by text
  }

  // Returns the pattern index of `key`, adding it if new; kNone when full.
  std::uint32_t FindOrAdd(std::string_view key, std::uint32_t ntokens, bool* added) {
    *added = false;
    auto it = index_.find(key);
    if (it != index_.end()) {
      ++counts_[it->second];
      return it->second;
    }
    if (tokens_.size() >= max_patterns_) return kNone;
    std::uint32_t id = static_cast<std::uint32_t>(tokens_.size());
    index_.emplace(std::string(key), id);
    std::vector<std::uint32_t> toks;
    toks.reserve(ntokens);
    std::size_t pos = 0;
    while (pos < key.size()) {
      std::size_t sp = key.find(' ', pos);
      if (sp == std::string_view::npos) sp = key.size();
      std::string_view t = key.substr(pos, sp - pos);
      toks.push_back(t.size() == 1 && t[0] == kVarByte ? kVar : Intern(t));
      pos = sp + 1;
    }
    tokens_.push_back(std::move(toks));
    counts_.push_back(1);
    *added = true;
    return id;
  }

  std::uint32_t Intern(std::string_view t) {
    auto it = token_index_.find(t);
    if (it != token_index_.end()) return it->second;
    std::uint32_t id = static_cast<std::uint32_t>(names_.size());
    names_.emplace_back(t);
    token_index_.emplace(names_.back(), id);
    return id;
  }

  std::size_t size() const { return tokens_.size(); }
  const std::vector<std::uint32_t>& tokens(std::uint32_t p) const { return tokens_[p]; }
  std::uint64_t count(std::uint32_t p) const { return counts_[p]; }
  const std::string& name(std::uint32_t t) const { return names_[t]; }

  std::string Render(const std::vector<std::uint32_t>& toks) const {
    std::string out;
    for (std::size_t i = 0; i < toks.size(); ++i) {
      if (i) out += ' ';
      for (char c : names_[toks[i]]) {
        if (c == kVarByte) {
          out += "<*>";
        } else {
          out += c;
        }
      }
    }
    return out;
  }

 private:
  std::size_t max_patterns_;
  std::unordered_map<std::string, std::uint32_t, KeyHash, std::equal_to<>> index_;
  std::vector<std::vector<std::uint32_t>> tokens_;
  std::vector<std::uint64_t> counts_;
  std::unordered_map<std::string_view, std::uint32_t, KeyHash, std::equal_to<>> token_index_;
  std::deque<std::string> names_;  // a deque: token_index_ holds views into it
};

}  // namespace

namespace internal {

std::uint32_t MaskLine(std::string_view line, const MinerOptions& options, std::string* key,
                       bool* truncated) {
  *truncated = false;
  if (line.size() > options.max_line_bytes) {
    line = line.substr(0, options.max_line_bytes);
    *truncated = true;
  }
  key->clear();
  std::uint32_t ntokens = 0;
  bool prev_var = false;
  const std::size_t max_tokens = std::max<std::size_t>(options.max_tokens, 1);
  const auto* p = reinterpret_cast<const unsigned char*>(line.data());
  const std::size_t n = line.size();
  std::size_t i = 0;
  while (i < n) {
    while (i < n && kClass[p[i]] == kSpace) ++i;
    if (i >= n) break;
    if (ntokens + 1 >= max_tokens) {
      // Token budget spent: the rest of the line is one variable.
      *truncated = true;
      if (!prev_var) {
        key->push_back(kVarByte);
        ++ntokens;
      } else {
        key->pop_back();
      }
      return ntokens;
    }
    // One word: segments split by delimiters; a segment holding a digit (or
    // a month or weekday name) is a variable, and variables separated only by
    // delimiters ("04:47:44") merge into one.
    const std::size_t word_start = key->size();
    bool literal = false;     // the word has a non-variable segment
    bool last_var = false;    // the last emitted segment was a variable
    std::size_t pending = 0;  // delimiters after a variable, not yet emitted
    std::size_t pending_at = 0;
    while (i < n && kClass[p[i]] != kSpace) {
      if (kClass[p[i]] == kDelim) {
        // An empty "()" or "[]" is a variable with no value, like "(host)".
        if (i + 1 < n && ((p[i] == '(' && p[i + 1] == ')') || (p[i] == '[' && p[i + 1] == ']'))) {
          if (pending) key->append(line.substr(pending_at, pending));
          pending = 0;
          key->push_back(static_cast<char>(p[i]));
          key->push_back(kVarByte);
          key->push_back(static_cast<char>(p[i + 1]));
          literal = true;
          last_var = false;
          i += 2;
          continue;
        }
        if (last_var) {
          if (pending == 0) pending_at = i;
          ++pending;
        } else {
          key->push_back(static_cast<char>(p[i]));
          literal = true;
        }
        ++i;
        continue;
      }
      std::size_t seg = i;
      std::uint8_t seen = 0;
      while (i < n && kClass[p[i]] != kSpace && kClass[p[i]] != kDelim) seen |= kClass[p[i++]];
      std::string_view segment = line.substr(seg, i - seg);
      bool var = (seen & kDigit) != 0 || IsCalendarWord(segment) || IsDomainLike(segment) ||
                 IsAbsolutePath(segment);
      if (var) {
        if (!last_var) key->push_back(kVarByte);
        pending = 0;
        last_var = true;
      } else {
        if (pending) key->append(line.substr(pending_at, pending)), literal = true;
        pending = 0;
        key->append(segment);
        literal = true;
        last_var = false;
      }
    }
    if (pending) key->append(line.substr(pending_at, pending)), literal = true;
    if (!literal) {
      // The whole word is one variable; a run of such words is one too.
      key->resize(word_start);
      if (prev_var) continue;
      key->push_back(kVarByte);
      key->push_back(' ');
      ++ntokens;
      prev_var = true;
      continue;
    }
    key->push_back(' ');
    ++ntokens;
    prev_var = false;
  }
  if (!key->empty()) key->pop_back();
  return ntokens;
}

}  // namespace internal

// ---------------------------------------------------------------------------
// Streaming mode.

struct TemplateMiner::Impl {
  explicit Impl(MinerOptions o) : options(o), store(o.max_templates) {}

  MinerOptions options;
  PatternStore store;
  std::string key;
  std::vector<std::uint32_t> pattern_cluster;        // pattern -> template id
  std::vector<std::vector<std::uint32_t>> clusters;  // template tokens, kVar = <*>
  std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> buckets;
  std::size_t truncated = 0;

  static constexpr std::size_t kMaxScan = 256;  // clusters compared per new pattern

  std::uint32_t Place(std::uint32_t pattern) {
    const auto& toks = store.tokens(pattern);
    std::uint64_t bucket_key =
        (static_cast<std::uint64_t>(toks.size()) << 32) | (toks.empty() ? kVar : toks[0]);
    auto& bucket = buckets[bucket_key];
    std::uint32_t best = kNone;
    double best_sim = -1;
    for (std::size_t k = 0; k < bucket.size() && k < kMaxScan; ++k) {
      const auto& c = clusters[bucket[k]];
      std::size_t same = 0;
      for (std::size_t i = 0; i < toks.size(); ++i) same += (c[i] == toks[i] && c[i] != kVar);
      double sim = toks.empty() ? 1.0 : static_cast<double>(same) / toks.size();
      if (sim > best_sim) {
        best_sim = sim;
        best = bucket[k];
      }
    }
    if (best != kNone && best_sim >= options.similarity) {
      auto& c = clusters[best];
      for (std::size_t i = 0; i < toks.size(); ++i) {
        if (c[i] != toks[i]) c[i] = kVar;
      }
      return best;
    }
    if (clusters.size() >= options.max_templates) return kOverflowId;
    clusters.push_back(toks);
    std::uint32_t id = static_cast<std::uint32_t>(clusters.size() - 1);
    bucket.push_back(id);
    return id;
  }
};

TemplateMiner::TemplateMiner(MinerOptions options) : impl_(std::make_unique<Impl>(options)) {}
TemplateMiner::~TemplateMiner() = default;
TemplateMiner::TemplateMiner(TemplateMiner&&) noexcept = default;
TemplateMiner& TemplateMiner::operator=(TemplateMiner&&) noexcept = default;

TemplateMiner::Id TemplateMiner::Add(std::string_view line, bool* truncated) {
  bool cut = false;
  std::uint32_t n = internal::MaskLine(line, impl_->options, &impl_->key, &cut);
  if (cut) ++impl_->truncated;
  if (truncated) *truncated = cut;
  bool added = false;
  std::uint32_t p = impl_->store.FindOrAdd(impl_->key, n, &added);
  if (p == kNone) return kOverflowId;
  if (added) impl_->pattern_cluster.push_back(impl_->Place(p));
  return impl_->pattern_cluster[p];
}

std::string TemplateMiner::Template(Id id) const {
  if (id == kOverflowId) return "<overflow>";
  if (id >= impl_->clusters.size()) return "";
  return impl_->store.Render(impl_->clusters[id]);
}

std::size_t TemplateMiner::template_count() const { return impl_->clusters.size(); }
std::size_t TemplateMiner::truncated_lines() const { return impl_->truncated; }

// ---------------------------------------------------------------------------
// Batch mode.

namespace {

struct VecHash {
  std::size_t operator()(const std::vector<std::uint32_t>& v) const {
    std::uint64_t h = v.size();
    for (std::uint32_t x : v) h = (h ^ x) * 0x9E3779B97F4A7C15ull, h ^= h >> 31;
    return h;
  }
};

class BatchClusterer {
 public:
  explicit BatchClusterer(const PatternStore& store) : store_(store) {}

  // Returns pattern -> cluster (in creation order) and fills cluster tokens.
  std::vector<std::uint32_t> Run(std::vector<std::vector<std::uint32_t>>* clusters) {
    clusters_ = clusters;
    pattern_cluster_.assign(store_.size(), kNone);
    std::unordered_map<std::size_t, std::vector<std::uint32_t>> by_length;
    std::vector<std::size_t> lengths;
    for (std::uint32_t p = 0; p < store_.size(); ++p) {
      auto& v = by_length[store_.tokens(p).size()];
      if (v.empty()) lengths.push_back(store_.tokens(p).size());
      v.push_back(p);
    }
    for (std::size_t len : lengths) ClusterLength(len, by_length[len]);
    IndexRovingValues();
    for (auto& [len, group] : pending_) Split(len, group);
    return std::move(pattern_cluster_);
  }

 private:
  static std::uint64_t PosKey(std::size_t pos, std::uint32_t tok) {
    return (static_cast<std::uint64_t>(pos) << 32) | tok;
  }

  void ClusterLength(std::size_t len, const std::vector<std::uint32_t>& patterns) {
    // Frequency of every (position, token) pair, in lines.
    std::unordered_map<std::uint64_t, std::uint64_t> freq;
    for (std::uint32_t p : patterns) {
      const auto& t = store_.tokens(p);
      for (std::size_t i = 0; i < len; ++i) freq[PosKey(i, t[i])] += store_.count(p);
    }
    // Root of each pattern: the frequency shared by the most positions (ties
    // to the higher frequency), Brain's "longest common pattern". Positions at
    // least that frequent are constants; the group key masks the others.
    std::uint64_t total = 0;
    for (std::uint32_t p : patterns) total += store_.count(p);
    std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, VecHash> group_index;
    std::vector<std::vector<std::uint32_t>> groups;
    std::vector<std::vector<std::uint32_t>> keys;  // per group
    std::vector<std::vector<std::uint32_t>> over;  // per group: positions above its root
    std::vector<std::uint64_t> f(len);
    for (std::uint32_t p : patterns) {
      const auto& t = store_.tokens(p);
      for (std::size_t i = 0; i < len; ++i) f[i] = freq[PosKey(i, t[i])];
      // Tokens every line of this length shares (header parts like a host
      // name or a level) say nothing about the template; left in, they would
      // outvote its real constants.
      std::vector<std::uint64_t> sorted;
      for (std::uint64_t x : f) {
        if (x <= total) sorted.push_back(x);
      }
      std::sort(sorted.begin(), sorted.end());
      std::uint64_t root = total;
      std::size_t best_run = 0;
      for (std::size_t i = 0; i < sorted.size();) {
        std::size_t j = i;
        while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
        if (j - i >= best_run) best_run = j - i, root = sorted[i];
        i = j;
      }
      std::vector<std::uint32_t> key(len);
      for (std::size_t i = 0; i < len; ++i) key[i] = f[i] >= root ? t[i] : kNone;
      auto [it, inserted] = group_index.emplace(key, groups.size());
      if (inserted) {
        groups.emplace_back();
        keys.push_back(std::move(key));
        over.emplace_back();
        for (std::size_t i = 0; i < len; ++i) {
          if (f[i] > root && t[i] != kVar) over.back().push_back(static_cast<std::uint32_t>(i));
        }
      }
      groups[it->second].push_back(p);
    }
    // A word more frequent than the group's root is a constant shared with
    // other messages, or a variable's value that happens to equal such a word
    // ("Invalid user user from <*>", where "user" is also a word of other
    // messages of this length). When masking that one position gives the key
    // of another group, the line belongs there; Split then judges the column.
    std::vector<std::uint32_t> into(groups.size());
    for (std::uint32_t g = 0; g < groups.size(); ++g) into[g] = g;
    for (std::uint32_t g = 0; g < groups.size(); ++g) {
      for (std::uint32_t i : over[g]) {
        std::uint32_t saved = keys[g][i];
        keys[g][i] = kNone;
        auto it = group_index.find(keys[g]);
        keys[g][i] = saved;
        if (it == group_index.end() || it->second == g) continue;
        if (Lines(groups[it->second]) <= Lines(groups[g])) continue;
        into[g] = it->second;
        break;
      }
    }
    for (std::uint32_t g = 0; g < groups.size(); ++g) {
      std::uint32_t h = g;
      for (int hops = 0; into[h] != h && hops < 8; ++hops) h = into[h];
      if (h != g) {
        groups[h].insert(groups[h].end(), groups[g].begin(), groups[g].end());
        groups[g].clear();
      }
    }
    for (auto& g : groups) {
      if (!g.empty()) pending_.emplace_back(len, std::move(g));
    }
  }

  std::uint64_t Lines(const std::vector<std::uint32_t>& group) const {
    std::uint64_t n = 0;
    for (std::uint32_t p : group) n += store_.count(p);
    return n;
  }

  // Splits a group on a column that behaves like part of the template rather
  // than a variable. Evidence: a template column is linked to another varying
  // column (one determines the other, as two words of the same message do),
  // while a variable combines freely with everything else (any user name with
  // any host). A column with only distinct values proves nothing either way.
  void Split(std::size_t len, const std::vector<std::uint32_t>& group) {
    const std::size_t n = group.size();
    std::vector<std::size_t> varying;
    std::vector<std::size_t> distinct(len, 1);
    std::unordered_map<std::uint32_t, std::uint32_t> values;
    for (std::size_t i = 0; i < len && n > 1; ++i) {
      values.clear();
      for (std::uint32_t p : group) values.emplace(store_.tokens(p)[i], 0);
      distinct[i] = values.size();
      if (values.size() > 1) varying.push_back(i);
    }
    std::size_t best_pos = len;
    std::unordered_map<std::uint64_t, std::uint32_t> combos;
    for (std::size_t a : varying) {
      if (SameVariable(group, a) != kNone) continue;
      const bool repeats = distinct[a] < Lines(group);
      const bool enumerated =
          distinct[a] <= kFewValues || (distinct[a] <= kMaxEnumValues && repeats);
      bool linked = (enumerated && !RovingColumn(group, a)) ||
                    (repeats && (a == 0 ? AllWords(group, a) : AllCapitals(group, a)));
      if (!linked && distinct[a] >= n) continue;
      for (std::size_t b : varying) {
        if (linked) break;
        if (b == a) continue;
        std::size_t most = std::max(distinct[a], distinct[b]);
        if (most >= n) continue;
        combos.clear();
        for (std::uint32_t p : group) {
          const auto& t = store_.tokens(p);
          combos.emplace((static_cast<std::uint64_t>(t[a]) << 32) | t[b], 0);
          if (combos.size() > most) break;
        }
        linked = combos.size() == most;
      }
      if (linked && (best_pos == len || distinct[a] < distinct[best_pos])) best_pos = a;
    }
    if (best_pos < len) {
      std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> parts;
      std::vector<std::uint32_t> order;
      for (std::uint32_t p : group) {
        auto& v = parts[store_.tokens(p)[best_pos]];
        if (v.empty()) order.push_back(store_.tokens(p)[best_pos]);
        v.push_back(p);
      }
      for (std::uint32_t tok : order) Split(len, parts[tok]);
      return;
    }
    std::vector<std::uint32_t> toks = store_.tokens(group[0]);
    for (std::size_t i : varying) {
      std::uint32_t shape = SameVariable(group, i);
      toks[i] = shape == kNone ? kVaried : shape;
    }
    std::uint32_t id = static_cast<std::uint32_t>(clusters_->size());
    clusters_->push_back(std::move(toks));
    for (std::uint32_t p : group) pattern_cluster_[p] = id;
  }

  // A column of at most kFewValues words, or of at most kMaxEnumValues of
  // which one repeats, picks among messages rather than holding a value.
  static constexpr std::size_t kFewValues = 3;
  static constexpr std::size_t kMaxEnumValues = 5;

  // A word that is a varying value in two different messages ("cyrus" in
  // "session opened for user cyrus" and "session closed for user cyrus") is
  // an entity the messages talk about, not a word of one message: a word
  // that picks the message ("VM Paused", "VM Started") lives in one group.
  void IndexRovingValues() {
    std::unordered_map<std::uint32_t, std::size_t> first_group;
    std::unordered_set<std::uint32_t> column;
    for (std::size_t g = 0; g < pending_.size(); ++g) {
      const auto& [len, group] = pending_[g];
      if (group.size() < 2) continue;
      for (std::size_t i = 0; i < len; ++i) {
        column.clear();
        for (std::uint32_t p : group) column.insert(store_.tokens(p)[i]);
        if (column.size() < 2) continue;
        for (std::uint32_t t : column) {
          if (!IsWordToken(t) || IsUpperCase(store_.name(t))) continue;
          auto [it, inserted] = first_group.emplace(t, g);
          if (!inserted && it->second != g) roving_.insert(t);
        }
      }
    }
  }

  // Whether column `a` holds at least two roving words.
  bool RovingColumn(const std::vector<std::uint32_t>& group, std::size_t a) const {
    std::unordered_set<std::uint32_t> seen;
    for (std::uint32_t p : group) {
      std::uint32_t t = store_.tokens(p)[a];
      if (roving_.count(t)) seen.insert(t);
    }
    return seen.size() >= 2;
  }

  // A plain word: letters, no masked part.
  bool IsWordToken(std::uint32_t t) const {
    if (t == kVar || t == kVaried) return false;
    std::string_view name = store_.name(t);
    if (name.find(kVarByte) != std::string_view::npos) return false;
    bool alpha = false;
    for (char c : name) alpha = alpha || IsAlpha(c);
    return alpha;
  }

  // Whether every value of column `a` is a word in capitals: states and
  // constants named in the code ("from NEW to UNASSIGNED") pick the message.
  bool AllCapitals(const std::vector<std::uint32_t>& group, std::size_t a) const {
    for (std::uint32_t p : group) {
      std::uint32_t t = store_.tokens(p)[a];
      if (!IsWordToken(t) || !IsUpperCase(store_.name(t))) return false;
    }
    return true;
  }

  // Whether every value of column `a` is a plain word.
  bool AllWords(const std::vector<std::uint32_t>& group, std::size_t a) const {
    for (std::uint32_t p : group) {
      if (!IsWordToken(store_.tokens(p)[a])) return false;
    }
    return true;
  }

  // Whether column `a` holds one variable in every line: the value most
  // lines hold has a masked part, and every other value has the same literal
  // text around it ("LOCAL(0)," among "<*>,"; "chdir(pwd)" among "chdir(<*>)";
  // "mask=ffffffff" among "mask=<*>"): those are unmasked instances of it.
  // Returns that value's token, or kNone.
  std::uint32_t SameVariable(const std::vector<std::uint32_t>& group, std::size_t a) const {
    std::unordered_map<std::uint32_t, std::uint64_t> lines;
    std::uint32_t top = kNone;
    for (std::uint32_t p : group) {
      std::uint32_t t = store_.tokens(p)[a];
      std::uint64_t c = lines[t] += store_.count(p);
      if (top == kNone || c > lines[top]) top = t;
    }
    if (top == kVar) {
      for (const auto& [t, c] : lines) {
        if (t != kVar && store_.name(t).find(kVarByte) == std::string_view::npos) return kNone;
      }
      return kVar;
    }
    std::string_view shape = store_.name(top);
    if (shape.find(kVarByte) == std::string_view::npos) return kNone;
    for (const auto& [t, c] : lines) {
      if (!FitsShape(store_.name(t), shape)) return kNone;
    }
    return top;
  }

  const PatternStore& store_;
  std::vector<std::vector<std::uint32_t>>* clusters_ = nullptr;
  std::vector<std::uint32_t> pattern_cluster_;
  // Groups of equal length, before Split judges their varying columns.
  std::vector<std::pair<std::size_t, std::vector<std::uint32_t>>> pending_;
  // Words that vary in columns of two or more groups (see IndexRovingValues).
  std::unordered_set<std::uint32_t> roving_;
};

}  // namespace

// Units written after a number ("1.16 KB", "<1 sec"): with the number they
// are one value, so they are optional wherever the number is.
bool IsUnitWord(std::string_view t) {
  std::size_t b = 0, e = t.size();
  while (b < e && !IsAlpha(t[b])) ++b;
  while (e > b && !IsAlpha(t[e - 1])) --e;
  if (e - b < t.size() - 2) return false;  // at most one bracket or comma around
  std::string_view w = t.substr(b, e - b);
  static constexpr std::string_view kUnits[] = {
      "B",  "KB", "MB", "GB",  "TB",   "kB",      "KiB", "MiB",  "GiB",     "TiB", "ms",
      "us", "ns", "s",  "sec", "secs", "seconds", "min", "mins", "minutes", "h",   "hrs"};
  for (std::string_view u : kUnits) {
    if (u == w) return true;
  }
  return false;
}

// Merges templates of different lengths that differ only by optional parts
// made of variables: "<*> bytes sent" and "<*> bytes (<*> KB) sent" are one
// message that sometimes prints an extra value. Their skeletons (the template
// without variables, bracketed variables and units after them) are equal.
// Rewrites pattern_cluster to the merged clusters.
void MergeOptionalParts(const PatternStore& store,
                        const std::vector<std::vector<std::uint32_t>>& clusters,
                        std::vector<std::uint32_t>* pattern_cluster) {
  std::unordered_map<std::vector<std::uint32_t>, std::uint32_t, VecHash> by_skeleton;
  std::vector<std::uint32_t> target(clusters.size());
  std::vector<std::uint32_t> skeleton;
  bool any = false;
  for (std::uint32_t c = 0; c < clusters.size(); ++c) {
    skeleton.clear();
    bool prev_var = false;
    for (std::uint32_t t : clusters[c]) {
      std::string_view name = store.name(t);
      bool has_var = t == kVar || name.find(kVarByte) != std::string_view::npos;
      bool has_word = false;
      for (char ch : name) has_word = has_word || IsAlpha(ch) || (ch >= '0' && ch <= '9');
      if (t == kVar || (has_var && !has_word) || (prev_var && IsUnitWord(name))) {
        prev_var = true;
        continue;
      }
      skeleton.push_back(t);
      prev_var = has_var;
    }
    if (skeleton.size() < 2) {
      target[c] = c;
      continue;
    }
    auto [it, inserted] = by_skeleton.emplace(skeleton, c);
    target[c] = it->second;
    any = any || !inserted;
  }
  if (!any) return;
  for (auto& pc : *pattern_cluster) {
    if (pc != kNone) pc = target[pc];
  }
}

BatchResult MineBatch(const std::vector<std::string_view>& lines, const MinerOptions& options) {
  BatchResult result;
  PatternStore store(options.max_templates);
  std::vector<std::uint32_t> line_pattern(lines.size());
  std::string key;
  const internal::HeaderKind header = internal::LearnHeader(lines);
  const std::size_t columns =
      header == internal::HeaderKind::kNone ? internal::LearnNumericColumns(lines) : 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    bool cut = false;
    std::string_view line = lines[i].substr(0, options.max_line_bytes);
    line.remove_prefix(columns ? internal::SkipColumns(line, columns)
                               : internal::ContentStart(line, header));
    std::uint32_t n = internal::MaskLine(line, options, &key, &cut);
    cut = cut || lines[i].size() > options.max_line_bytes;
    if (cut) result.truncated_lines.push_back(static_cast<std::uint32_t>(i));
    bool added = false;
    line_pattern[i] = store.FindOrAdd(key, n, &added);
  }
  std::vector<std::vector<std::uint32_t>> clusters;
  std::vector<std::uint32_t> pattern_cluster = BatchClusterer(store).Run(&clusters);
  MergeOptionalParts(store, clusters, &pattern_cluster);

  // Renumber templates in order of first appearance.
  std::vector<std::uint32_t> renumber(clusters.size(), kNone);
  std::unordered_map<std::string, std::uint32_t> by_text;
  result.line_template.resize(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (line_pattern[i] == kNone) {
      result.line_template[i] = TemplateMiner::kOverflowId;
      result.overflow = true;
      continue;
    }
    std::uint32_t c = pattern_cluster[line_pattern[i]];
    if (renumber[c] == kNone) {
      // Clusters that render to the same text are one template to a reader
      // (and to Loghub's scoring), so they share one id.
      std::string text = store.Render(clusters[c]);
      auto [it, inserted] =
          by_text.emplace(std::move(text), static_cast<std::uint32_t>(result.templates.size()));
      if (inserted) result.templates.push_back(it->first);
      renumber[c] = it->second;
    }
    result.line_template[i] = renumber[c];
  }
  return result;
}

}  // namespace mamori::logs
