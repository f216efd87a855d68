// JS values <-> TorchScript IValues: tensors, numbers, strings, booleans, null, and
// (nested) arrays / tuples / lists / dicts of them.
#pragma once
#include <ATen/core/ivalue.h>
#include <ATen/core/jit_type.h>
#include <napi.h>

#include <string>

namespace sd {

// Converts `value` to the type a TorchScript argument declares; errors name `arg`.
c10::IValue ToIValue(Napi::Value value, const c10::TypePtr& expected, const std::string& arg);

// Converts without a declared type (for checkpoints): integral numbers become int,
// arrays lists (of tensors where all are tensors), plain objects string-keyed dicts.
c10::IValue GuessIValue(Napi::Value value, const std::string& arg);

// Tensors become handles, tuples and lists arrays, string-keyed dicts plain objects.
Napi::Value FromIValue(Napi::Env env, const c10::IValue& value);

}  // namespace sd
