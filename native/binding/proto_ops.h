#pragma once
#include <napi.h>

#include "ops/prototype_ops.h"

namespace sd {

// {tau?, interWeight?, intraWeight?, ignoreIndex?, checkLabels?} with DESIGN.md's defaults.
ops::DistOptions ToDistOptions(Napi::Value value);

}  // namespace sd
