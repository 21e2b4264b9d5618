// The `notify:` section of the configuration: the list of channels (each
// with a unique `name` and a `type`) and the optional `outbox:` mapping that
// tunes retries. ReadNotify is called once by the config loader; problems
// become diagnostics with the usual FILE:LINE:COL and hints, so a config with
// a broken channel never loads (a monitor whose alerts cannot leave is worse
// than one that refuses to start).
//
// NotifyConfig is part of the immutable Config; its channels are shared with
// the outbox and survive a reload swap while a delivery is in flight.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mamori/config/node.h"
#include "mamori/notify/alert_config.h"
#include "mamori/notify/channel.h"
#include "mamori/util/clock.h"

namespace mamori::notify {

// Retry policy of the outbox (see outbox.h).
struct OutboxPolicy {
  Duration retry_first = std::chrono::seconds(10);  // first retry after this
  Duration retry_max = std::chrono::minutes(30);    // doubling stops here
  Duration expire_after = std::chrono::hours(24);   // give up after this
};

struct NotifyConfig {
  ChannelList channels;  // in config order
  OutboxPolicy outbox;
  AlertConfig alerts;  // routing and life cycle (alert_config.h)

  const Channel* Find(std::string_view name) const;
  std::shared_ptr<Channel> FindShared(std::string_view name) const;
};

// Reads `notify:`, `outbox:`, `routes:` and `alerting:` from the top-level mapping.
void ReadNotify(config::ConfigNode& top, NotifyConfig& out, const ChannelRegistry& types);

// This machine's host name (for e-mail HELO, Message-ID and "host").
std::string LocalHostName();

}  // namespace mamori::notify
