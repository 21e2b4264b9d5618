#include "mamori/notify/webhook_channel.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "mamori/notify/http_post.h"

namespace mamori::notify {
namespace {

using nlohmann::json;

std::string_view Emoji(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk:
      return "\xF0\x9F\x9F\xA2";  // green circle
    case CheckStatus::kWarning:
      return "\xF0\x9F\x9F\xA0";  // orange circle
    case CheckStatus::kCritical:
      return "\xF0\x9F\x94\xB4";  // red circle
    case CheckStatus::kUnknown:
      return "\xE2\x9A\xAA";  // white circle
  }
  return "";
}

std::string Value(std::string_view name, const Notification& n, size_t max_text) {
  const Item* first = n.items.empty() ? nullptr : &n.items[0];
  if (name == "id") return n.id;
  if (name == "kind") return std::string(KindName(n.kind));
  if (name == "title") return Title(n);
  if (name == "text") return CapUtf8(TextBody(n), max_text);
  if (name == "host") return n.host;
  if (name == "time") return Rfc3339(n.time);
  if (name == "json") return ToJson(n, true).dump(-1, ' ', false, json::error_handler_t::replace);
  if (!first) return name == "status" ? "ok" : (name == "status_label" ? "OK" : "");
  // With several items, status is the worst of them.
  CheckStatus worst = CheckStatus::kOk;
  for (const auto& it : n.items) worst = Worst(worst, it.to);
  if (name == "check") {
    std::string s;
    for (size_t i = 0; i < n.items.size() && i < 10; ++i) s += (i ? ", " : "") + n.items[i].check;
    return n.items.size() > 10 ? s + ", ..." : s;
  }
  if (name == "status") return std::string(StatusName(worst));
  if (name == "status_label") return std::string(StatusLabel(worst));
  if (name == "emoji") return std::string(Emoji(worst));
  if (name == "from") return std::string(StatusName(first->from));
  if (name == "summary") return first->summary;
  if (name == "details") return CapUtf8(first->details, max_text);
  return "";
}

bool IsPlaceholder(std::string_view name) {
  return std::find_if(std::begin(kPlaceholders), std::end(kPlaceholders),
                      [&](const char* p) { return name == p; }) != std::end(kPlaceholders);
}

// Every {{name}} in `text` that is not a known placeholder.
void UnknownPlaceholders(std::string_view text, std::set<std::string>& out) {
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    size_t end = text.find("}}", pos + 2);
    if (end == std::string_view::npos) return;
    std::string name(text.substr(pos + 2, end - pos - 2));
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!IsPlaceholder(name)) out.insert(name);
    pos = end + 2;
  }
}

json Expand(const json& t, const Notification& n, size_t max_text) {
  if (t.is_string()) {
    const std::string& s = t.get_ref<const std::string&>();
    if (s == "{{json}}") return ToJson(n, true);
    return ExpandPlaceholders(s, n, max_text);
  }
  if (t.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : t.items()) out[k] = Expand(v, n, max_text);
    return out;
  }
  if (t.is_array()) {
    json out = json::array();
    for (const auto& v : t) out.push_back(Expand(v, n, max_text));
    return out;
  }
  return t;
}

// YAML to JSON. Unquoted scalars that read as booleans or integers become
// those (Telegram's chat_id, Discord's flags); quoted ones stay strings.
json FromYaml(const config::Yaml& y, int depth = 0) {
  if (depth > 32) return nullptr;
  if (y.IsMap()) {
    json out = json::object();
    for (const auto& kv : y) out[kv.first.Scalar()] = FromYaml(kv.second, depth + 1);
    return out;
  }
  if (y.IsSequence()) {
    json out = json::array();
    for (const auto& v : y) out.push_back(FromYaml(v, depth + 1));
    return out;
  }
  if (y.IsNull()) return nullptr;
  const std::string& s = y.Scalar();
  if (y.Tag() != "!") {
    if (s == "true") return true;
    if (s == "false") return false;
    if (!s.empty() && s.size() < 19 &&
        s.find_first_not_of("0123456789", s[0] == '-' ? 1 : 0) == std::string::npos && s != "-")
      return std::stoll(s);
  }
  return s;
}

void CollectStrings(const json& j, std::set<std::string>& unknown) {
  if (j.is_string()) UnknownPlaceholders(j.get_ref<const std::string&>(), unknown);
  if (j.is_object())
    for (const auto& [k, v] : j.items()) CollectStrings(v, unknown);
  if (j.is_array())
    for (const auto& v : j) CollectStrings(v, unknown);
}

std::string HeaderSafe(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  return CapUtf8(std::move(out), 1000);
}

}  // namespace

std::string ExpandPlaceholders(std::string_view text, const Notification& n, size_t max_text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    std::string name(text.substr(open + 2, close - open - 2));
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    out.append(text.substr(pos, open - pos));
    if (IsPlaceholder(name))
      out += Value(name, n, max_text);
    else
      out.append(text.substr(open, close + 2 - open));
    pos = close + 2;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

std::string RedactUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "(url)";
  size_t host_begin = scheme + 3;
  size_t host_end = url.find_first_of("/?#", host_begin);
  std::string authority = url.substr(
      host_begin, host_end == std::string::npos ? std::string::npos : host_end - host_begin);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  std::string out = url.substr(0, host_begin) + authority;
  if (host_end != std::string::npos && host_end + 1 < url.size()) out += "/...";
  return out;
}

WebhookChannel::WebhookChannel(std::string name, WebhookOptions options)
    : Channel(std::move(name), "webhook"), o_(std::move(options)) {}

std::string WebhookChannel::Describe() const {
  return fmt::format("webhook {} {}", o_.method, RedactUrl(o_.url));
}

std::string WebhookChannel::RenderBody(const Notification& n) const {
  if (o_.text_template) return ExpandPlaceholders(*o_.text_template, n, o_.max_text);
  const json body = o_.json_template ? Expand(*o_.json_template, n, o_.max_text) : ToJson(n, true);
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> WebhookChannel::Deliver(const Notification& n) {
  PostRequest req;
  req.method = o_.method;
  req.url = o_.url;
  req.body = RenderBody(n);
  req.timeout = o_.timeout;
  req.verify_tls = o_.verify_tls;
  req.ca_file = o_.ca_file;
  std::string ct = o_.content_type;
  if (ct.empty()) ct = o_.text_template ? "text/plain; charset=utf-8" : "application/json";
  req.headers.emplace_back("Content-Type", ct);
  req.headers.emplace_back("X-Mamori-Notification", n.id);
  for (const auto& [k, v] : o_.headers)
    req.headers.emplace_back(k, HeaderSafe(ExpandPlaceholders(v, n, 1000)));
  auto r = HttpPost(req);
  if (!r.ok()) return Error(fmt::format("{} failed: {}", Describe(), r.error().message()));
  if (r->status < 200 || r->status > 299)
    return Error(fmt::format("{} answered {}", Describe(), DescribeHttpAnswer(*r)));
  return DescribeHttpAnswer(*r);
}

std::unique_ptr<Channel> MakeWebhookChannel(const std::string& name, config::ConfigNode& node,
                                            const ChannelContext&) {
  WebhookOptions o;
  bool ok = true;
  auto url = node.GetString("url");
  if (!url) {
    node.Error("missing 'url'", "give the URL to POST to, e.g. url: https://ntfy.sh/my-topic");
    ok = false;
  } else if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
    node.ErrorAt("url", "is not an http:// or https:// URL", "write the full URL");
    ok = false;
  } else {
    o.url = *url;
  }
  if (auto m = node.GetString("method")) {
    if (*m != "POST" && *m != "PUT") {
      node.ErrorAt("method", fmt::format("'{}' is not supported", *m), "use POST or PUT");
      ok = false;
    } else {
      o.method = *m;
    }
  }
  node.Known("headers");
  if (node.Has("headers")) {
    const config::Yaml h = node.yaml()["headers"];
    if (!h.IsMap()) {
      node.ErrorAt("headers", "must be a mapping of header names to values",
                   "e.g. headers: {Title: \"{{title}}\", Priority: high}");
      ok = false;
    } else {
      for (const auto& kv : h) {
        const std::string key = kv.first.Scalar();
        if (!kv.second.IsScalar() || key.empty() ||
            key.find_first_of(": \r\n\t") != std::string::npos) {
          node.ErrorAt("headers",
                       fmt::format("header '{}' needs a plain name and a text value", key),
                       "e.g. Authorization: Bearer xyz");
          ok = false;
          continue;
        }
        std::set<std::string> unknown;
        UnknownPlaceholders(kv.second.Scalar(), unknown);
        for (const auto& u : unknown) {
          node.ErrorAt("headers",
                       fmt::format("unknown placeholder {{{{{}}}}} in header '{}'", u, key),
                       fmt::format("known: {}", fmt::join(kPlaceholders, ", ")));
          ok = false;
        }
        o.headers.emplace_back(key, kv.second.Scalar());
      }
    }
  }
  node.Known("template");
  if (node.Has("template")) {
    const config::Yaml t = node.yaml()["template"];
    std::set<std::string> unknown;
    if (t.IsScalar()) {
      o.text_template = t.Scalar();
      UnknownPlaceholders(*o.text_template, unknown);
    } else if (t.IsMap() || t.IsSequence()) {
      o.json_template = FromYaml(t);
      CollectStrings(*o.json_template, unknown);
    } else {
      node.ErrorAt("template", "must be a mapping (a JSON body) or a string (a text body)",
                   "see docs/notify.md for Slack, Discord, ntfy, Telegram and Mattermost");
      ok = false;
    }
    for (const auto& u : unknown) {
      std::vector<std::string> known(std::begin(kPlaceholders), std::end(kPlaceholders));
      std::string best = config::ClosestMatch(u, known);
      node.ErrorAt("template", fmt::format("unknown placeholder {{{{{}}}}}", u),
                   best.empty() ? fmt::format("known: {}", fmt::join(known, ", "))
                                : fmt::format("did you mean {{{{{}}}}}?", best));
      ok = false;
    }
  }
  o.content_type = node.GetString("content_type").value_or("");
  if (o.content_type.find_first_of("\r\n") != std::string::npos) {
    node.ErrorAt("content_type", "must be one line");
    ok = false;
  }
  if (auto v = node.GetInt("max_text", 100, 1 << 20)) o.max_text = static_cast<size_t>(*v);
  if (auto t = node.GetDuration("timeout")) {
    if (*t < std::chrono::seconds(1) || *t > std::chrono::minutes(5)) {
      node.ErrorAt("timeout", "must be between 1s and 5m", "the default is 10s");
      ok = false;
    } else {
      o.timeout = *t;
    }
  }
  o.verify_tls = node.GetBool("verify_tls").value_or(true);
  o.ca_file = node.GetString("ca_file").value_or("");
  if (!ok) return nullptr;
  return std::make_unique<WebhookChannel>(name, std::move(o));
}

}  // namespace mamori::notify

namespace mamori::channels::webhook {

void Register(notify::ChannelRegistry& registry) {
  registry.Add({"webhook",
                "HTTP POST with a JSON or text body template (Slack, Discord, ntfy, ...)",
                notify::MakeWebhookChannel});
}

}  // namespace mamori::channels::webhook
