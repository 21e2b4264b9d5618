#include "mamori/check/registry.h"

#include <stdexcept>

namespace mamori {

ProbeRegistry::Entry& ProbeRegistry::Add(std::string type, std::string description,
                                         ProbeFactory factory, bool settled) {
  if (entries_.count(type)) throw std::logic_error("check type registered twice: " + type);
  Entry& e = entries_[type];
  e = Entry{type, std::move(description), std::move(factory), settled};
  return e;
}

const ProbeRegistry::Entry* ProbeRegistry::Find(std::string_view type) const {
  auto it = entries_.find(type);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> ProbeRegistry::Types() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : entries_) out.push_back(k);
  return out;
}

}  // namespace mamori
