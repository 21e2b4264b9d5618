// A file compiled into the binary (cmake/embed_files.cmake writes the table):
// the shipped rules and other data the binary must carry so that a copied
// binary, the package and a container behave the same. Names are base names;
// the text is static storage, valid for the life of the process.
#pragma once

#include <string_view>

namespace mamori::util {

struct EmbeddedFile {
  std::string_view name;
  std::string_view text;
};

}  // namespace mamori::util
