// BuiltinRemedySteps: every remedy step compiled into mamori, registered once
// on first use (thread-safe) and read-only afterwards. The list is generated
// by the build from the <key>_remedy.cc files, so a new remedy step is one new
// file (plus its test) and nothing else.
#pragma once

#include "mamori/remedy/remedy.h"

namespace mamori {

const remedy::StepRegistry& BuiltinRemedySteps();

}  // namespace mamori
