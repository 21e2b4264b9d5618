#include "mamori/web/event_stream.h"

#include <fmt/format.h>

#include <algorithm>

namespace mamori::web {

std::string FormatEvent(std::string_view event, std::string_view data) {
  std::string out = fmt::format("event: {}\n", event);
  // A newline inside the data would end the field early; each line is its own
  // data: field and the client joins them back with "\n".
  while (true) {
    const size_t nl = data.find('\n');
    out += "data: ";
    out += data.substr(0, nl);
    out += '\n';
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  out += '\n';
  return out;
}

EventStream::State EventStream::Take(std::string* out) {
  MutexLock lock(mu_);
  out->append(queued_);
  queued_.clear();
  return state_;
}

EventStream::State EventStream::state() const {
  MutexLock lock(mu_);
  return state_;
}

void EventStream::SetWake(std::function<void()> wake) {
  MutexLock lock(mu_);
  wake_ = std::move(wake);
}

std::string EventStream::Preamble() const {
  return fmt::format("retry: {}\n\n",
                     std::chrono::duration_cast<std::chrono::milliseconds>(limits_.retry).count());
}

bool EventStream::Push(std::string_view text) {
  {
    MutexLock lock(mu_);
    if (state_ != State::kOpen) return true;  // already over: not dropped again
    if (queued_.size() + text.size() <= limits_.max_queued_bytes) {
      queued_.append(text);
      text = {};
    }
  }
  if (!text.empty()) {
    End(State::kDropped);
    return false;
  }
  Wake();
  return true;
}

void EventStream::End(State why) {
  {
    MutexLock lock(mu_);
    if (state_ != State::kOpen) return;
    state_ = why;
    // A dropped reader gets nothing more; its memory goes now, not when its
    // connection finally closes.
    if (why == State::kDropped) std::string().swap(queued_);
  }
  Wake();
}

void EventStream::Wake() {
  std::function<void()> wake;
  {
    MutexLock lock(mu_);
    wake = wake_;
  }
  if (wake) wake();
}

std::vector<std::shared_ptr<EventStream>> EventHub::Live() const {
  std::vector<std::shared_ptr<EventStream>> live;
  MutexLock lock(mu_);
  std::erase_if(streams_, [](const std::weak_ptr<EventStream>& w) { return w.expired(); });
  for (const auto& w : streams_)
    if (auto s = w.lock()) live.push_back(std::move(s));
  return live;
}

std::shared_ptr<EventStream> EventHub::Subscribe() {
  MutexLock lock(mu_);
  std::erase_if(streams_, [](const std::weak_ptr<EventStream>& w) { return w.expired(); });
  if (closed_ || streams_.size() >= limits_.max_streams) return nullptr;
  auto s = std::make_shared<EventStream>(limits_);
  streams_.push_back(s);
  return s;
}

void EventHub::Publish(std::string_view event, std::string_view data) {
  const std::string text = FormatEvent(event, data);
  for (const auto& s : Live()) {
    if (s->Push(text)) continue;
    MutexLock lock(mu_);
    ++dropped_;
  }
}

void EventHub::Close() {
  {
    MutexLock lock(mu_);
    closed_ = true;
  }
  for (const auto& s : Live()) s->End(EventStream::State::kClosed);
}

void EventHub::EndAll() {
  for (const auto& s : Live()) s->End(EventStream::State::kClosed);
}

size_t EventHub::open() const { return Live().size(); }

uint64_t EventHub::dropped() const {
  MutexLock lock(mu_);
  return dropped_;
}

}  // namespace mamori::web
