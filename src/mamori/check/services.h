// ProbeServices: what the composition (the daemon, a one-shot command) offers
// to check types at run time, looked up by the service's type. A check type
// asks for the service it needs (`env.services.Get<heartbeat::HeartbeatBook>()`)
// instead of the composition digging the concrete probe out, so the probe seam
// knows no service above it and a new service needs no change here.
//
// Ownership: the composition owns every service and keeps it alive for as long
// as the ProbeEnv holding this set; Get returns a non-owning pointer, or null
// where the composition offers no such service (a probe must then say so, as
// UNKNOWN, not crash). Provide is called while building the environment, before
// any run; Get is then read-only and safe from any thread.
#pragma once

#include <map>
#include <typeindex>
#include <typeinfo>

namespace mamori {

class ProbeServices {
 public:
  template <class T>
  void Provide(T* service) {
    if (service)
      by_type_[std::type_index(typeid(T))] = service;
    else
      by_type_.erase(std::type_index(typeid(T)));
  }
  template <class T>
  T* Get() const {
    auto it = by_type_.find(std::type_index(typeid(T)));
    return it == by_type_.end() ? nullptr : static_cast<T*>(it->second);
  }

 private:
  std::map<std::type_index, void*> by_type_;
};

}  // namespace mamori
