// Yaml: a parsed YAML document held compactly, and read-only views of its
// nodes with the part of yaml-cpp's YAML::Node interface the configuration
// readers use (IsMap, Scalar, Mark, operator[], iteration).
//
// Why not YAML::Node itself: yaml-cpp's tree makes six allocations and about
// 340 bytes per node, and a check is about eleven nodes. With 10,000 checks
// the tree was 37 MB at load, most of the daemon's peak RSS, for a file of
// 0.9 MB. yaml-cpp still does the parsing (its event interface); the
// document keeps one 64-byte record per node, the children of all nodes in
// one array, and each alias as a second reference to its anchor's node.
//
// Ownership: a Yaml shares its document (shared_ptr); views stay valid as
// long as one of them lives. A document is immutable once parsed, so views
// may be read from any thread. Failure: Parse returns the first syntax error
// with its place; nothing a text contains makes it throw or crash.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <yaml-cpp/mark.h>

namespace mamori::config {

// A syntax error: where (a null mark when yaml-cpp gave none) and what.
struct YamlError {
  YAML::Mark mark;
  std::string message;
};

class YamlEntry;

class Yaml {
 public:
  // An undefined node: what a lookup of a missing key returns.
  Yaml() = default;

  // The first document of `text` (a Null node for a text without one), or
  // the first syntax error.
  [[nodiscard]] static std::variant<Yaml, YamlError> Parse(std::string_view text);
  // A mapping of scalar keys to scalar values, for configuration a reader
  // makes itself (a peer's synthetic http check). Its marks are null.
  static Yaml MapOfScalars(const std::vector<std::pair<std::string, std::string>>& pairs);

  bool IsDefined() const { return doc_ != nullptr; }
  bool IsNull() const;
  bool IsScalar() const;
  bool IsSequence() const;
  bool IsMap() const;
  // The scalar's text; empty for every other kind.
  const std::string& Scalar() const;
  // yaml-cpp's tag: "?" for a plain scalar or collection, "!" for a quoted
  // scalar, the resolved tag when one is written; empty for null.
  const std::string& Tag() const;
  // Where the node starts in the text (null for an undefined node).
  YAML::Mark Mark() const;
  // Entries of a sequence or mapping; 0 for every other kind.
  size_t size() const;

  // The value of the first entry whose key is the scalar `key`; undefined
  // when there is none or this is not a mapping.
  Yaml operator[](std::string_view key) const;
  // The i-th item of a sequence; undefined when out of range.
  Yaml operator[](size_t i) const;
  Yaml operator[](int i) const { return (*this)[static_cast<size_t>(i)]; }

  // Iteration over a sequence's items (each entry is the item) or a
  // mapping's pairs (entry.first, entry.second), in document order.
  class const_iterator;
  const_iterator begin() const;
  const_iterator end() const;

 private:
  struct Node;
  struct Document;
  class Builder;
  Yaml(std::shared_ptr<const Document> doc, uint32_t index) : doc_(std::move(doc)), index_(index) {}
  const Node* node() const;
  Yaml Child(uint32_t kid) const;

  std::shared_ptr<const Document> doc_;
  uint32_t index_ = 0;
};

// One step of an iteration: for a sequence, the item itself; for a mapping,
// the key in `first` and the value in `second` (the entry itself is then
// undefined), as yaml-cpp's iterators give them.
class YamlEntry : public Yaml {
 public:
  YamlEntry(Yaml item, Yaml first, Yaml second)
      : Yaml(std::move(item)), first(std::move(first)), second(std::move(second)) {}
  Yaml first;
  Yaml second;
};

class Yaml::const_iterator {
 public:
  using value_type = YamlEntry;
  using difference_type = std::ptrdiff_t;
  const_iterator() = default;
  YamlEntry operator*() const;
  const_iterator& operator++() {
    ++pos_;
    return *this;
  }
  bool operator==(const const_iterator& o) const { return pos_ == o.pos_; }

 private:
  friend class Yaml;
  const_iterator(const Yaml* owner, size_t pos) : owner_(owner), pos_(pos) {}
  const Yaml* owner_ = nullptr;
  size_t pos_ = 0;
};

}  // namespace mamori::config
