// ConfigNode: a typed, error-collecting view of one YAML mapping in a config
// file. Check types read their own keys through it, so every check type gets
// strict parsing, "FILE:LINE:COL" errors and "did you mean" for unknown keys
// without writing any of that itself.
//
// Every Get*() call records the key as known (whether present or not); after a
// check type has read what it understands, CheckUnknownKeys() reports the rest,
// suggesting the closest known key. Getters return std::nullopt both when the
// key is absent and when its value is invalid (the latter also adds a
// diagnostic), so callers just apply their default and carry on.
//
// A ConfigNode shares its diagnostics, file name and the names of the keys
// asked for with its children (one copy of each name per file, however many
// checks ask for it); it is cheap to copy (copies share state) and not
// thread-safe. The YAML is a config::Yaml (yaml.h), not yaml-cpp's tree.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "mamori/config/diagnostics.h"
#include "mamori/config/yaml.h"
#include "mamori/util/clock.h"
#include "mamori/util/result.h"
#include "mamori/util/time_zone.h"

namespace mamori::config {

class ConfigNode {
 public:
  // `what` names the node in messages, e.g. "check 'blog'".
  ConfigNode(Yaml node, std::string what, std::string file, Diagnostics* diag);

  bool IsMap() const { return state_->node.IsMap(); }
  bool Has(std::string_view key) const;
  const std::string& what() const { return state_->what; }
  void set_what(std::string what) { state_->what = std::move(what); }
  Location location() const;
  Location KeyLocation(std::string_view key) const;    // the key itself
  Location ValueLocation(std::string_view key) const;  // its value
  Diagnostics& diagnostics() const { return *state_->shared->diag; }
  // The YAML itself, for shapes the getters do not cover (a value that may be
  // a string or a list, a mapping with free-form keys). Read-only.
  const Yaml& yaml() const { return state_->node; }

  std::optional<std::string> GetString(std::string_view key);
  // The time zone `name` (util::FindTimeZone: null for UTC), loaded once per
  // file however many checks name it. Reports nothing: the caller places
  // the error.
  Result<std::shared_ptr<const util::TimeZone>> Zone(std::string_view name);
  std::optional<bool> GetBool(std::string_view key);
  std::optional<int64_t> GetInt(std::string_view key, int64_t min, int64_t max);
  std::optional<double> GetNumber(std::string_view key);
  std::optional<Duration> GetDuration(std::string_view key);
  std::optional<uint64_t> GetSize(std::string_view key);
  std::optional<double> GetPercent(std::string_view key);
  // Accepts a single scalar or a sequence of scalars.
  std::optional<std::vector<std::string>> GetStringList(std::string_view key);
  // A nested mapping; nullopt (with a diagnostic) if present but not a mapping.
  std::optional<ConfigNode> GetMap(std::string_view key);
  // A sequence of mappings, each a ConfigNode named "<what> item N".
  std::optional<std::vector<ConfigNode>> GetMapList(std::string_view key);

  // ---- Pairs of limits on one scale (warning below critical, min below max) ----
  //
  // Each reads `low_key` and `high_key` with `get` (a getter such as
  // &ConfigNode::GetPercent, or any callable (ConfigNode&, key) -> optional),
  // stores what is present into `low` / `high` (which keep their defaults
  // otherwise; either may be a plain value or a std::optional), and returns
  // false, with one diagnostic, when both are set and low is above high.

  // How an ordering error reads: the key it points at, and a message and hint
  // in which {0} is the low value and {1} the high one, shown by `show`.
  struct OrderError {
    std::string_view at;
    std::string_view message;
    std::string_view hint;
  };
  template <typename L, typename H, typename Get, typename Show>
  bool GetOrdered(std::string_view low_key, std::string_view high_key, L& low, H& high, Get get,
                  Show show, const OrderError& e) {
    if (auto v = std::invoke(get, *this, low_key)) low = *v;
    if (auto v = std::invoke(get, *this, high_key)) high = *v;
    if (!IsSet(low) || !IsSet(high) || !(ValueOf(high) < ValueOf(low))) return true;
    const std::string l = show(ValueOf(low)), h = show(ValueOf(high));
    ErrorAt(e.at, fmt::format(fmt::runtime(e.message), l, h),
            fmt::format(fmt::runtime(e.hint), l, h));
    return false;
  }
  // warning: / critical: where a higher value is worse. The error points at
  // the warning key: "95% is above critical (90%)", hint "warning must be
  // lower than or equal to critical".
  template <typename L, typename H, typename Get, typename Show>
  bool GetThresholds(std::string_view warning_key, std::string_view critical_key, L& warning,
                     H& critical, Get get, Show show) {
    const std::string message = fmt::format("{{0}} is above {} ({{1}})", critical_key);
    const std::string hint =
        fmt::format("{} must be lower than or equal to {}", warning_key, critical_key);
    return GetOrdered(warning_key, critical_key, warning, critical, get, show,
                      {warning_key, message, hint});
  }
  // max_latency: / critical_latency: (durations, both optional) where the
  // critical one is the worse threshold. The error points at the critical key:
  // "is lower than max_latency (2s)".
  bool GetMaxAndCritical(std::string_view max_key, std::string_view critical_key,
                         std::optional<Duration>& max, std::optional<Duration>& critical);

  // Marks a key as known without reading it (for keys handled elsewhere).
  void Known(std::string_view key);
  // Marks every key known: used when a node cannot be interpreted at all (an
  // unknown check type), so its keys don't drown the real error.
  void KnowAll();

  void Error(std::string message, std::string hint = "");
  void ErrorAt(std::string_view key, std::string message, std::string hint = "");

  // Reports every key of this node (and of nodes obtained from it) that no
  // getter asked for. Call once, after the last Get*().
  void CheckUnknownKeys();

 private:
  // What a node and all the nodes obtained from it share.
  struct Shared {
    std::string file;
    Diagnostics* diag;
    // Every key name asked for in this file, once: `known` points into it
    // (a set's elements do not move).
    std::set<std::string, std::less<>> names;
    std::map<std::string, std::shared_ptr<const util::TimeZone>, std::less<>> zones;
  };
  struct State {
    Yaml node;
    std::string what;
    std::shared_ptr<Shared> shared;
    std::vector<const std::string*> known;
    std::vector<ConfigNode> children;
  };
  ConfigNode(Yaml node, std::string what, std::shared_ptr<Shared> shared);
  bool IsKnown(std::string_view key) const;
  // The scalar value of `key`, or nullopt (absent or null); adds a diagnostic
  // when the value is a list/map instead.
  std::optional<std::string> Scalar(std::string_view key, std::string_view expected);
  template <typename T>
  static bool IsSet(const T&) {
    return true;
  }
  template <typename T>
  static bool IsSet(const std::optional<T>& v) {
    return v.has_value();
  }
  template <typename T>
  static const T& ValueOf(const T& v) {
    return v;
  }
  template <typename T>
  static const T& ValueOf(const std::optional<T>& v) {
    return *v;
  }
  std::shared_ptr<State> state_;
};

Location MarkLocation(const YAML::Mark& mark, const std::string& file);

// Adds `e` to `diag`: "YAML syntax error: ..." at its place in `file`, or
// "YAML error: ..." when yaml-cpp gave no place.
void AddYamlError(const YamlError& e, const std::string& file, Diagnostics* diag);

}  // namespace mamori::config
