#pragma once
#include <napi.h>

#include <string>

#include "ops/prototype_ops.h"

namespace sd {

// The loss's own fields {tau, interWeight, intraWeight, channels, teacherMask (array or null)},
// every one required (defaults: lib/ops/dist-options.ts); `where` prefixes error messages.
ops::DistOptions ToDistOptions(Napi::Value value, const std::string& where);

}  // namespace sd
