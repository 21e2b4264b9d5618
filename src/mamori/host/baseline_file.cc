#include "mamori/host/baseline_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "mamori/probes/procfs.h"
#include "mamori/util/atomic_file.h"

namespace mamori::host::baseline {

bool Document::Has(const Item& i) const {
  auto it = std::lower_bound(entries.begin(), entries.end(), i,
                             [](const Entry& e, const Item& k) { return e.item < k; });
  return it != entries.end() && it->item.Key() == i.Key();
}

bool Document::Add(const Item& i, WallTime now) {
  auto it = std::lower_bound(entries.begin(), entries.end(), i,
                             [](const Entry& e, const Item& k) { return e.item < k; });
  if (it != entries.end() && it->item.Key() == i.Key()) {
    if (!i.detail.empty()) it->item.detail = i.detail;
    return true;
  }
  if (entries.size() >= kMaxItems) return false;
  Entry e{i, now};
  e.item.learnable = true;
  entries.insert(it, std::move(e));
  if (created == WallTime{}) created = now;
  return true;
}

size_t Document::Forget(const std::string& name) {
  const size_t before = entries.size();
  std::erase_if(entries, [&](const Entry& e) { return e.item.name == name; });
  return before - entries.size();
}

std::vector<Item> Document::Items() const {
  std::vector<Item> out;
  out.reserve(entries.size());
  for (const auto& e : entries) out.push_back(e.item);
  return out;
}

std::string BaselinePath(const std::string& data_dir) { return data_dir + "/baseline.json"; }

std::string ToJson(const Document& d) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& e : d.entries)
    items.push_back({{"kind", KindName(e.item.kind)},
                     {"name", e.item.name},
                     {"detail", e.item.detail},
                     {"learned", ToUnixMillis(e.learned)}});
  nlohmann::json j = {
      {"version", kFileVersion}, {"created", ToUnixMillis(d.created)}, {"items", items}};
  return j.dump(1) + "\n";
}

Result<Document> FromJson(const std::string& text, const std::string& origin) {
  const std::string fix =
      "; look at it, then remove it or run `mamori baseline accept` to start a new baseline";
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Error(fmt::format("{} is not a baseline (not a JSON object){}", origin, fix));
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || *version != kFileVersion)
    return Error(fmt::format("{} is not a version {} baseline{}", origin, kFileVersion, fix));
  auto items = j.find("items");
  if (items == j.end() || !items->is_array() || items->size() > kMaxItems)
    return Error(fmt::format("{}: \"items\" is missing, not a list or too long{}", origin, fix));
  Document d;
  if (auto c = j.find("created"); c != j.end() && c->is_number_integer())
    d.created = FromUnixMillis(c->get<int64_t>());
  for (const auto& it : *items) {
    const auto* kind =
        it.is_object() && it.contains("kind") && it["kind"].is_string() ? &it["kind"] : nullptr;
    auto k = kind ? ParseKind(kind->get<std::string>()) : std::nullopt;
    if (!k || !it.contains("name") || !it["name"].is_string() ||
        it["name"].get<std::string>().empty())
      return Error(fmt::format("{}: an item without a valid kind and name{}", origin, fix));
    Item i;
    i.kind = *k;
    i.name = it["name"].get<std::string>();
    if (it.contains("detail") && it["detail"].is_string()) i.detail = it["detail"];
    WallTime learned = d.created;
    if (it.contains("learned") && it["learned"].is_number_integer())
      learned = FromUnixMillis(it["learned"].get<int64_t>());
    d.Add(i, learned);
  }
  return d;
}

Result<Document> Load(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return Document{};
  auto text = procfs::ReadFileBounded(path, kMaxFileBytes + 1);
  if (!text.ok()) return text.error();
  if (text->size() > kMaxFileBytes)
    return Error(fmt::format("{} is larger than {} bytes; it is not a baseline mamori wrote", path,
                             kMaxFileBytes));
  return FromJson(*text, path);
}

Result<bool> Save(const std::string& path, const Document& d) {
  return WriteFileAtomically(path, ToJson(d));
}

Result<Document> Update(const std::string& data_dir, MonoTime deadline, const Clock& clock,
                        const std::function<bool(Document&)>& change) {
  const std::string lock_path = data_dir + "/baseline.lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Error(fmt::format("cannot open {}: {}", lock_path, std::strerror(errno)));
  // The holder only reads and writes one small file: a short wait suffices.
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (clock.Monotonic() >= deadline) {
      ::close(fd);
      return Error(fmt::format("{} stayed locked by another mamori; try again", lock_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string path = BaselinePath(data_dir);
  auto doc = Load(path);
  Result<Document> out = doc;
  if (doc.ok() && change(*doc)) {
    auto saved = Save(path, *doc);
    out = saved.ok() ? Result<Document>(std::move(*doc)) : Result<Document>(saved.error());
  }
  ::close(fd);  // releases the lock
  return out;
}

}  // namespace mamori::host::baseline
