// Diagnostics: the list of configuration errors found while loading, each with
// the place it points at. Loading never stops at the first error: the user gets
// all of them at once, each as "FILE:LINE:COL: what is wrong; how to fix it".
// Not thread-safe; one loader owns one Diagnostics.
#pragma once

#include <string>
#include <vector>

namespace mamori::config {

struct Location {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
};

struct Diagnostic {
  Location where;
  std::string message;
  std::string hint;  // how to fix it; may be empty
  std::string ToString() const;
};

class Diagnostics {
 public:
  void Add(Location where, std::string message, std::string hint = "");
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // One diagnostic per line, in file order.
  std::string ToString() const;

 private:
  std::vector<Diagnostic> items_;
};

// The closest candidate within a small edit distance, or "" (for "did you mean").
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace mamori::config
