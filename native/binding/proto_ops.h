#pragma once
#include <napi.h>

#include "ops/prototype_ops.h"

namespace sd {

// {tau?, interWeight?, intraWeight?, channels?, teacherMask?, ignoreIndex?, checkLabels?}; absent keys
// keep DistOptions' defaults.
ops::DistOptions ToDistOptions(Napi::Value value);

}  // namespace sd
