// Tests for config::Yaml against what yaml-cpp's own tree (YAML::Load) gives
// for the same text: kinds, scalars, tags, marks, lookups, iteration,
// aliases, and syntax errors with their places.
#include "mamori/config/yaml.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>
#include <string>
#include <vector>

namespace mamori::config {
namespace {

Yaml Parse(const std::string& text) {
  auto parsed = Yaml::Parse(text);
  if (const auto* e = std::get_if<YamlError>(&parsed)) {
    ADD_FAILURE() << "syntax error: " << e->message;
    return Yaml();
  }
  return std::get<Yaml>(parsed);
}

// Every node of `ours` matches yaml-cpp's node: kind, scalar, tag, mark,
// size, and the same for every child, in order.
void ExpectSameTree(const Yaml& ours, const YAML::Node& theirs, const std::string& path) {
  SCOPED_TRACE(path);
  ASSERT_EQ(ours.IsNull(), theirs.IsNull());
  ASSERT_EQ(ours.IsScalar(), theirs.IsScalar());
  ASSERT_EQ(ours.IsSequence(), theirs.IsSequence());
  ASSERT_EQ(ours.IsMap(), theirs.IsMap());
  EXPECT_EQ(ours.Mark().line, theirs.Mark().line);
  EXPECT_EQ(ours.Mark().column, theirs.Mark().column);
  if (theirs.IsScalar()) {
    EXPECT_EQ(ours.Scalar(), theirs.Scalar());
    EXPECT_EQ(ours.Tag(), theirs.Tag());
  }
  if (theirs.IsSequence() || theirs.IsMap()) {
    EXPECT_EQ(ours.Tag(), theirs.Tag());
    ASSERT_EQ(ours.size(), theirs.size());
  }
  if (theirs.IsSequence()) {
    for (size_t i = 0; i < theirs.size(); ++i)
      ExpectSameTree(ours[i], theirs[i], path + "[" + std::to_string(i) + "]");
  }
  if (theirs.IsMap()) {
    auto it = ours.begin();
    for (const auto& kv : theirs) {
      ASSERT_FALSE(it == ours.end());
      const YamlEntry e = *it;
      ExpectSameTree(e.first, kv.first, path + ".key");
      ExpectSameTree(e.second, kv.second, path + "." + kv.first.Scalar());
      ++it;
    }
    EXPECT_TRUE(it == ours.end());
  }
}

TEST(Yaml, MatchesYamlCppsTreeOnARealisticConfiguration) {
  const std::string text = R"(data_dir: /var/lib/mamori
defaults: {interval: 30s, timeout: 5s}
checks:
  - name: blog
    type: http
    url: "https://example.org/health"
    expect_status: [200, 204]
    headers:
      Host: example.org
      X-Empty: ""
  - {name: disk, type: disk, path: /, warning: 80%, critical: 90%}
  - name: quoted
    type: command
    command: ['/bin/sh', "-c", plain words]
    note: ~
    other: null
    empty:
    block: |
      line one
      line two
    tagged: !!str 123
notify:
  channels:
    - {type: webhook, url: 'http://127.0.0.1:9/x', template: {chat_id: 42, ok: true}}
)";
  ExpectSameTree(Parse(text), YAML::Load(text), "root");
}

TEST(Yaml, LookupsFindTheFirstScalarKeyAndNeverInsert) {
  Yaml y = Parse("{a: 1, b: {c: [x, y]}, a: 2}");
  EXPECT_EQ(y["a"].Scalar(), "1");  // the first of a duplicated key, as yaml-cpp
  EXPECT_EQ(y["b"]["c"][1].Scalar(), "y");
  EXPECT_FALSE(y["missing"].IsDefined());
  EXPECT_FALSE(y["missing"]["deeper"].IsDefined());
  EXPECT_FALSE(y["b"]["c"][2].IsDefined());
  EXPECT_FALSE(y["a"]["not a map"].IsDefined());
  EXPECT_EQ(y.size(), 3u);
  EXPECT_TRUE(y["missing"].Mark().is_null());
  EXPECT_EQ(y["missing"].Scalar(), "");
}

TEST(Yaml, QuotedAndPlainScalarsKeepYamlCppsTags) {
  Yaml y = Parse("{plain: 42, quoted: \"42\", single: '42', n: ~}");
  EXPECT_EQ(y["plain"].Tag(), "?");
  EXPECT_EQ(y["quoted"].Tag(), "!");
  EXPECT_EQ(y["single"].Tag(), "!");
  EXPECT_TRUE(y["n"].IsNull());
  EXPECT_TRUE(y["n"].IsDefined());
}

TEST(Yaml, AnAliasIsTheAnchoredNodeAndASelfReferenceIsRefused) {
  Yaml y = Parse("base: &b {timeout: 5s}\nuse: *b\n");
  EXPECT_EQ(y["use"]["timeout"].Scalar(), "5s");
  EXPECT_EQ(y["use"].Mark().line, y["base"].Mark().line);  // the same node

  auto cyclic = Yaml::Parse("a: &x [1, *x]\n");
  ASSERT_TRUE(std::holds_alternative<YamlError>(cyclic));
  EXPECT_EQ(std::get<YamlError>(cyclic).message,
            "an alias cannot refer to a node that contains it");
  EXPECT_EQ(std::get<YamlError>(cyclic).mark.line, 0);

  auto undefined = Yaml::Parse("a: *nowhere\n");
  ASSERT_TRUE(std::holds_alternative<YamlError>(undefined));
  EXPECT_FALSE(std::get<YamlError>(undefined).mark.is_null());
}

TEST(Yaml, SyntaxErrorsComeWithTheirPlaceAsYamlCppsDo) {
  const std::string text = "checks:\n  - {name: a\n  - b\n";
  auto ours = Yaml::Parse(text);
  ASSERT_TRUE(std::holds_alternative<YamlError>(ours));
  try {
    YAML::Load(text);
    FAIL() << "yaml-cpp accepted it";
  } catch (const YAML::ParserException& e) {
    EXPECT_EQ(std::get<YamlError>(ours).message, e.msg);
    EXPECT_EQ(std::get<YamlError>(ours).mark.line, e.mark.line);
    EXPECT_EQ(std::get<YamlError>(ours).mark.column, e.mark.column);
  }
}

TEST(Yaml, AnEmptyTextIsANullRootAndOnlyTheFirstDocumentIsRead) {
  for (const char* text : {"", "# only a comment\n", "---\n"}) {
    Yaml y = Parse(text);
    EXPECT_TRUE(y.IsDefined()) << text;
    EXPECT_TRUE(y.IsNull()) << text;
  }
  EXPECT_EQ(Parse("a: 1\n---\na: 2\n")["a"].Scalar(), "1");
}

TEST(Yaml, IterationGivesSequenceItemsAndMappingPairsInOrder) {
  Yaml y = Parse("list: [a, {k: v}, c]\nmap: {z: 1, y: 2}\nscalar: s\n");
  std::vector<std::string> items;
  for (const auto& item : y["list"]) items.push_back(item.IsScalar() ? item.Scalar() : "{map}");
  EXPECT_EQ(items, (std::vector<std::string>{"a", "{map}", "c"}));
  std::vector<std::string> pairs;
  for (const auto& kv : y["map"]) pairs.push_back(kv.first.Scalar() + "=" + kv.second.Scalar());
  EXPECT_EQ(pairs, (std::vector<std::string>{"z=1", "y=2"}));
  int n = 0;
  for (const auto& none : y["scalar"]) n += none.IsDefined();
  for (const auto& none : y["missing"]) n += none.IsDefined();
  EXPECT_EQ(n, 0);
}

TEST(Yaml, MapOfScalarsReadsLikeAParsedMapping) {
  Yaml y = Yaml::MapOfScalars({{"url", "http://127.0.0.1:9/ping"}, {"method", "POST"}});
  ASSERT_TRUE(y.IsMap());
  EXPECT_EQ(y.size(), 2u);
  EXPECT_EQ(y["url"].Scalar(), "http://127.0.0.1:9/ping");
  EXPECT_EQ(y["method"].Tag(), "?");
  EXPECT_TRUE(y.Mark().is_null());
}

// Views keep their document alive: a value read from a temporary parse
// stays valid after every other view is gone.
TEST(Yaml, AViewOutlivesTheRootItCameFrom) {
  Yaml inner = Parse("a: {b: [deep]}")["a"]["b"][0];
  EXPECT_EQ(inner.Scalar(), "deep");
}

// The reason this type exists: the heap a document of 2,000 checks holds,
// against yaml-cpp's tree of the same text, measured the same way.
TEST(Yaml, HoldsAConfigurationInAQuarterOfYamlCppsHeap) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer serves the heap itself: mallinfo2() does not count it";
#endif
  std::string text = "checks:\n";
  for (int i = 0; i < 2000; ++i)
    text += fmt::format(
        "  - {{name: c{}, type: http, url: \"http://127.0.0.1:8080/health\", interval: 1s, "
        "timeout: 1s}}\n",
        i);
  auto heap = [] {  // small blocks in use and blocks mapped on their own
    const struct mallinfo2 m = mallinfo2();
    return static_cast<long long>(m.uordblks + m.hblkhd);
  };
  long long before = heap();
  YAML::Node theirs = YAML::Load(text);
  const long long theirs_bytes = heap() - before;
  before = heap();
  Yaml ours = Parse(text);
  const long long ours_bytes = heap() - before;
  ASSERT_EQ(ours["checks"].size(), 2000u);
  ASSERT_EQ(theirs["checks"].size(), 2000u);
  EXPECT_LT(ours_bytes * 4, theirs_bytes) << ours_bytes << " against " << theirs_bytes;
  EXPECT_LT(ours_bytes / 2000, 1024) << "bytes per check";
  RecordProperty("bytes_per_check_ours", static_cast<int>(ours_bytes / 2000));
  RecordProperty("bytes_per_check_yaml_cpp", static_cast<int>(theirs_bytes / 2000));
}

}  // namespace
}  // namespace mamori::config
