// Reading the segmentation losses' options from JS (shared by dice() and the training step).
#pragma once
#include <napi.h>

#include <string>

#include "ops/seg_losses.h"

namespace sd {

// {smooth, squared, includeBackground}, every field required (defaults: lib/losses/options.ts);
// ignore_index is left unset. `where` prefixes error messages.
ops::DiceOptions ToDiceOptions(Napi::Value value, const std::string& where);

}  // namespace sd
