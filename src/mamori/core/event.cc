#include "mamori/core/event.h"

namespace mamori {

std::string_view EventKindName(EventKind k) {
  switch (k) {
    case EventKind::kStateChange:
      return "state";
    case EventKind::kFlappingStarted:
      return "flapping_started";
    case EventKind::kFlappingStopped:
      return "flapping_stopped";
    case EventKind::kAddressChanged:
      return "address_changed";
    case EventKind::kRemedy:
      return "remedy";
  }
  return "state";
}

}  // namespace mamori
