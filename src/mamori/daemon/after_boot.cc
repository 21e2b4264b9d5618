#include "mamori/daemon/after_boot.h"

#include <boost/asio/post.hpp>

namespace mamori {

AfterBoot::AfterBoot(boost::asio::io_context& io, const Clock& clock, std::function<void()> settled)
    : io_(io), clock_(clock), settled_(std::move(settled)), timer_(io) {}

void AfterBoot::Start(std::string description, Duration settle) {
  description_ = std::move(description);
  if (settle <= Duration::zero()) {
    // The checks are configured but the loop does not run yet.
    boost::asio::post(io_, [this] { settled_(); });
    return;
  }
  until_ = clock_.Now() + settle;
  timer_.expires_after(settle);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) settled_();
  });
}

void AfterBoot::Cancel() {
  timer_.cancel();
  until_.reset();
}

void AfterBoot::Relabel(notify::Notification& n) const {
  n.kind = notify::Kind::kAfterBoot;
  for (auto& item : n.items)
    for (auto& [key, value] : item.labels)
      if (key == "maintenance" && value == kWindow) {
        key = "boot";
        value = description_;
      }
}

}  // namespace mamori
