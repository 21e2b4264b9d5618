// Channel: one configured way to deliver notifications (an SMTP relay and its
// recipients, a webhook, an Alertmanager, a program). Built from a `notify:`
// entry by notify_config.cc through the ChannelRegistry below; delivered to by
// the outbox.
//
// Deliver() blocks until the receiver answered or the channel's timeout passed
// (every channel has one, so a dead receiver never stalls the caller longer
// than that). It returns the receiver's own answer ("250 2.0.0 Ok: queued as
// 4F2A", "HTTP 200", "exit 0: ok") on success; on failure an Error whose
// message starts with what was tried and ends with the receiver's exact words
// ("mail to ops@example.org rejected: 550 5.7.1 rejected by DMARC policy"), so
// that text can be shown to a person as-is.
//
// Ownership: channels are shared (the outbox and `mamori notify test` hold
// shared_ptrs); they are immutable after construction, and Deliver() may be
// called from several threads at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mamori/config/node.h"
#include "mamori/notify/notification.h"
#include "mamori/util/result.h"

namespace mamori::notify {

class Channel {
 public:
  Channel(std::string name, std::string type) : name_(std::move(name)), type_(std::move(type)) {}
  virtual ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  // Where it goes, for people: "mail to ops@example.org via smtp://10.0.0.1:25".
  virtual std::string Describe() const = 0;
  // Sends `n`. See the file comment for the meaning of the result.
  virtual Result<std::string> Deliver(const Notification& n) = 0;

 private:
  std::string name_;
  std::string type_;
};

using ChannelList = std::vector<std::shared_ptr<Channel>>;

// What every channel factory may use besides its own keys.
struct ChannelContext {
  std::string host;  // this machine's name (e-mail HELO and Message-ID fallback)
};

// Factories, one per type (in <type>_channel.cc). Each reads its keys from
// `node` (the common keys name/type are read by the caller), reports problems
// with node.ErrorAt and returns null when the entry is unusable.
using ChannelFactory = std::unique_ptr<Channel> (*)(const std::string& name,
                                                    config::ConfigNode& node,
                                                    const ChannelContext& ctx);
struct ChannelType {
  const char* name;
  const char* description;
  ChannelFactory factory;
};

// The channel types a configuration may use. Each <type>_channel.cc defines
// mamori::channels::<type>::Register(ChannelRegistry&), which adds its type;
// the composition (daemon/builtin_channels.h) builds the registry from all of
// them and passes it in (ReadNotify). Filled once, then read-only.
class ChannelRegistry {
 public:
  void Add(ChannelType type) { types_.push_back(type); }
  const ChannelType* Find(std::string_view name) const {
    for (const auto& t : types_)
      if (name == t.name) return &t;
    return nullptr;
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& t : types_) names.emplace_back(t.name);
    return names;
  }

 private:
  std::vector<ChannelType> types_;
};

}  // namespace mamori::notify
