// Redact: takes secrets out of text before it may leave the host (the
// `mamori ask` bundle). Pure and deterministic; every string that goes into a
// bundle passes through it first, field by field, so nothing is built from
// unredacted text and then "anonymised" afterwards.
//
// What it removes (each replaced by a marker naming what was there):
//  - private key blocks (-----BEGIN ... PRIVATE KEY----- to its END, or to the
//    end of the text when the END line is missing);
//  - passwords in URLs and DSNs (scheme://user:PASSWORD@host) and libpq
//    key/value DSNs (password=...);
//  - Authorization / Proxy-Authorization header values and "Bearer TOKEN";
//  - tokens of well-known shapes: sk-..., ghp_/gho_/ghu_/ghs_/ghr_...,
//    github_pat_..., glpat-..., xoxb-/xoxp-/..., AKIA/ASIA access key ids,
//    AIza... (Google), JWTs (eyJ...x.y.z);
//  - the value of any key named like password/passwd/pwd/secret/token/api_key/
//    apikey/access_key/private_key/credentials, in key=value, key: value and
//    JSON ("key": "value") forms, and SQL's IDENTIFIED BY '...'.
//
// Thread-safe (the compiled expressions are immutable, built once). Never
// fails: text it cannot parse passes through the patterns like any other.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mamori::logs {

inline constexpr std::string_view kRedacted = "[REDACTED]";

// `text` with every secret replaced; `count` (if given) gets the number of
// replacements added to it.
std::string Redact(std::string_view text, size_t* count = nullptr);

}  // namespace mamori::logs
