// Reading a secret (a password, an API key, a bearer token) from a file that
// holds it on its first line, as `password_file:`, `api_key_file:` and
// `token_file:` do. At most 4 KiB are read whatever the file holds; the line
// end and trailing blanks are not part of the secret. The secret itself never
// appears in an error. Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "mamori/util/result.h"

namespace mamori {

// The first line of `path`; `key` names the setting in the error
// ("cannot read password_file /etc/x: No such file or directory").
Result<std::string> ReadSecretFile(const std::string& path, std::string_view key);

}  // namespace mamori
