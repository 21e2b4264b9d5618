#include "mamori/config/yaml.h"

#include <sstream>
#include <unordered_map>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

namespace mamori::config {

enum class Kind : uint8_t { kNull, kScalar, kSequence, kMap };

struct Yaml::Node {
  Kind kind = Kind::kNull;
  uint32_t tag = 0;  // index into Document::tags
  int32_t pos = -1, line = -1, column = -1;
  // Children in Document::kids: items, or key and value alternately.
  uint32_t first = 0, count = 0;
  std::string scalar;
};

struct Yaml::Document {
  std::vector<Node> nodes;
  std::vector<uint32_t> kids;
  std::vector<std::string> tags{""};
};

namespace {
const std::string kEmpty;
}  // namespace

// Builds a Document from yaml-cpp's parser events. Containers are closed
// innermost first, so each one's children can be appended to the shared
// array in one contiguous run when it closes.
class Yaml::Builder : public YAML::EventHandler {
 public:
  explicit Builder(Document& doc) : doc_(doc) {}
  bool has_root() const { return has_root_; }
  uint32_t root() const { return root_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Attach(Register(anchor, NewNode(Kind::kNull, mark, "")));
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= anchors_.size() || anchors_[anchor] == kNone)
      throw YAML::ParserException(mark, "the alias refers to an anchor that is not defined");
    const uint32_t target = anchors_[anchor];
    // yaml-cpp would build a cycle here; every reader of the tree recurses.
    for (const Open& o : open_)
      if (o.index == target)
        throw YAML::ParserException(mark, "an alias cannot refer to a node that contains it");
    Attach(target);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const uint32_t i = NewNode(Kind::kScalar, mark, tag);
    doc_.nodes[i].scalar = value;
    Attach(Register(anchor, i));
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open_.push_back({Register(anchor, NewNode(Kind::kSequence, mark, tag)), {}});
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open_.push_back({Register(anchor, NewNode(Kind::kMap, mark, tag)), {}});
  }
  void OnMapEnd() override { Close(); }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Open {
    uint32_t index;
    std::vector<uint32_t> kids;
  };

  uint32_t NewNode(Kind kind, const YAML::Mark& mark, const std::string& tag) {
    Node n;
    n.kind = kind;
    n.pos = mark.pos;
    n.line = mark.line;
    n.column = mark.column;
    if (!tag.empty()) {
      auto [it, added] = tag_index_.try_emplace(tag, static_cast<uint32_t>(doc_.tags.size()));
      if (added) doc_.tags.push_back(tag);
      n.tag = it->second;
    }
    doc_.nodes.push_back(std::move(n));
    return static_cast<uint32_t>(doc_.nodes.size() - 1);
  }
  uint32_t Register(YAML::anchor_t anchor, uint32_t index) {
    if (anchor != YAML::NullAnchor) {
      if (anchor >= anchors_.size()) anchors_.resize(anchor + 1, kNone);
      anchors_[anchor] = index;
    }
    return index;
  }
  void Attach(uint32_t index) {
    if (open_.empty()) {
      if (!has_root_) root_ = index;
      has_root_ = true;
    } else {
      open_.back().kids.push_back(index);
    }
  }
  void Close() {
    Open o = std::move(open_.back());
    open_.pop_back();
    Node& n = doc_.nodes[o.index];
    n.first = static_cast<uint32_t>(doc_.kids.size());
    n.count = static_cast<uint32_t>(o.kids.size());
    doc_.kids.insert(doc_.kids.end(), o.kids.begin(), o.kids.end());
    Attach(o.index);
  }

  Document& doc_;
  std::vector<Open> open_;
  std::vector<uint32_t> anchors_;
  std::unordered_map<std::string, uint32_t> tag_index_;
  bool has_root_ = false;
  uint32_t root_ = 0;
};

std::variant<Yaml, YamlError> Yaml::Parse(std::string_view text) {
  auto doc = std::make_shared<Document>();
  uint32_t root = 0;
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    Builder builder(*doc);
    if (parser.HandleNextDocument(builder) && builder.has_root()) {
      root = builder.root();
    } else {
      doc->nodes.push_back(Node{});  // no document: a Null root, as YAML::Load gives
      root = static_cast<uint32_t>(doc->nodes.size() - 1);
    }
  } catch (const YAML::ParserException& e) {
    return YamlError{e.mark, e.msg};
  } catch (const YAML::Exception& e) {
    return YamlError{YAML::Mark::null_mark(), e.what()};
  }
  doc->nodes.shrink_to_fit();
  doc->kids.shrink_to_fit();
  return Yaml(std::move(doc), root);
}

Yaml Yaml::MapOfScalars(const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto doc = std::make_shared<Document>();
  doc->tags.push_back("?");
  auto add = [&](Kind kind, std::string text) {
    Node n;
    n.kind = kind;
    n.tag = 1;
    n.scalar = std::move(text);
    doc->nodes.push_back(std::move(n));
    return static_cast<uint32_t>(doc->nodes.size() - 1);
  };
  for (const auto& [k, v] : pairs) {
    doc->kids.push_back(add(Kind::kScalar, k));
    doc->kids.push_back(add(Kind::kScalar, v));
  }
  const uint32_t root = add(Kind::kMap, "");
  doc->nodes[root].count = static_cast<uint32_t>(doc->kids.size());
  return Yaml(std::move(doc), root);
}

const Yaml::Node* Yaml::node() const { return doc_ ? &doc_->nodes[index_] : nullptr; }

Yaml Yaml::Child(uint32_t kid) const { return Yaml(doc_, doc_->kids[node()->first + kid]); }

bool Yaml::IsNull() const { return doc_ && node()->kind == Kind::kNull; }
bool Yaml::IsScalar() const { return doc_ && node()->kind == Kind::kScalar; }
bool Yaml::IsSequence() const { return doc_ && node()->kind == Kind::kSequence; }
bool Yaml::IsMap() const { return doc_ && node()->kind == Kind::kMap; }

const std::string& Yaml::Scalar() const { return IsScalar() ? node()->scalar : kEmpty; }

const std::string& Yaml::Tag() const { return doc_ ? doc_->tags[node()->tag] : kEmpty; }

YAML::Mark Yaml::Mark() const {
  if (!doc_) return YAML::Mark::null_mark();
  YAML::Mark m;
  m.pos = node()->pos;
  m.line = node()->line;
  m.column = node()->column;
  return m;
}

size_t Yaml::size() const {
  if (IsSequence()) return node()->count;
  if (IsMap()) return node()->count / 2;
  return 0;
}

Yaml Yaml::operator[](std::string_view key) const {
  if (!IsMap()) return Yaml();
  const Node* n = node();
  for (uint32_t k = 0; k + 1 < n->count; k += 2) {
    const Node& key_node = doc_->nodes[doc_->kids[n->first + k]];
    if (key_node.kind == Kind::kScalar && key_node.scalar == key) return Child(k + 1);
  }
  return Yaml();
}

Yaml Yaml::operator[](size_t i) const {
  if (!IsSequence() || i >= node()->count) return Yaml();
  return Child(static_cast<uint32_t>(i));
}

Yaml::const_iterator Yaml::begin() const { return const_iterator(this, 0); }
Yaml::const_iterator Yaml::end() const { return const_iterator(this, size()); }

YamlEntry Yaml::const_iterator::operator*() const {
  const uint32_t i = static_cast<uint32_t>(pos_);
  if (owner_->IsMap()) return YamlEntry(Yaml(), owner_->Child(2 * i), owner_->Child(2 * i + 1));
  return YamlEntry(owner_->Child(i), Yaml(), Yaml());
}

}  // namespace mamori::config
