// Channel type `webhook`: an HTTP POST (or PUT) per notification, with a body
// made from a template, so one channel type talks to Slack, Discord, ntfy,
// Telegram, Mattermost or anything else that takes JSON or text.
//
// The template is YAML in the config: a mapping or list becomes a JSON body in
// which every string may hold placeholders ({{title}}, {{text}}, {{check}},
// ...; the list is kPlaceholders); a string value equal to "{{json}}" becomes
// the whole notification as a JSON object. A plain string template becomes a
// text body. Without a template the body is the notification JSON (the same
// document `command` gets on stdin). Placeholders are checked when the config
// is loaded; values are inserted as data, never as JSON syntax, so a quote in a
// check summary cannot break the body.
//
// Delivered means a 2xx answer. Secrets often live in webhook URLs (Slack,
// Telegram), so messages and Describe() show only scheme, host and port.
// Thread-safe (immutable; one curl handle per delivery).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mamori/notify/channel.h"

namespace mamori::notify {

inline constexpr const char* kPlaceholders[] = {
    "id",     "kind",         "title", "text",    "host",    "time",  "check",
    "status", "status_label", "from",  "summary", "details", "emoji", "json",
};

struct WebhookOptions {
  std::string url;
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;  // values may hold placeholders
  std::optional<nlohmann::json> json_template;               // a JSON body template
  std::optional<std::string> text_template;                  // a text body template
  std::string content_type;                                  // default by body kind
  size_t max_text = 3500;                                    // bytes of {{text}} and {{details}}
  Duration timeout = std::chrono::seconds(10);
  bool verify_tls = true;
  std::string ca_file;
};

class WebhookChannel final : public Channel {
 public:
  WebhookChannel(std::string name, WebhookOptions options);
  std::string Describe() const override;
  Result<std::string> Deliver(const Notification& n) override;
  // The body that Deliver would send (for tests and `notify test`).
  std::string RenderBody(const Notification& n) const;

 private:
  WebhookOptions o_;
};

// Replaces {{name}} placeholders in `text` (unknown names are left alone).
std::string ExpandPlaceholders(std::string_view text, const Notification& n, size_t max_text);
// "https://hooks.example.org:443/..." without path or credentials.
std::string RedactUrl(const std::string& url);

}  // namespace mamori::notify
