#include "binding/ivalue.h"

#include <ATen/ATen.h>

#include <cmath>

#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/tensor_handle.h"

namespace sd {

c10::IValue ToIValue(Napi::Value value, const c10::TypePtr& expected, const std::string& arg) {
  Napi::Env env = value.Env();
  const std::string want = expected->annotation_str();
  auto mismatch = [&]() -> c10::IValue {
    ThrowTypeError(env, arg + ": expected " + want + ", got " +
                            (value.IsNull()                ? "null"
                             : value.Type() == napi_object ? "an object"
                                                           : value.ToString().Utf8Value()));
  };
  switch (expected->kind()) {
    case c10::TypeKind::TensorType:
      if (!TensorHandle::IsHandle(value)) return mismatch();
      return TensorHandle::Arg(value, arg.c_str());
    case c10::TypeKind::IntType:
      return ToInt(value, arg);
    case c10::TypeKind::FloatType:
      return ToDouble(value, arg);
    case c10::TypeKind::NumberType:
      return value.IsNumber() ? GuessIValue(value, arg) : mismatch();
    case c10::TypeKind::BoolType:
      if (!value.IsBoolean()) return mismatch();
      return value.As<Napi::Boolean>().Value();
    case c10::TypeKind::StringType:
      return ToString(value, arg);
    case c10::TypeKind::NoneType:
      if (!IsNullish(value)) return mismatch();
      return c10::IValue();
    case c10::TypeKind::OptionalType:
      if (IsNullish(value)) return c10::IValue();
      return ToIValue(value, expected->expectRef<c10::OptionalType>().getElementType(), arg);
    case c10::TypeKind::ListType: {
      if (!value.IsArray()) return mismatch();
      auto elem = expected->expectRef<c10::ListType>().getElementType();
      Napi::Array a = value.As<Napi::Array>();
      c10::impl::GenericList list(elem);
      for (uint32_t i = 0; i < a.Length(); i++)
        list.push_back(ToIValue(a.Get(i), elem, arg + "[" + std::to_string(i) + "]"));
      return list;
    }
    case c10::TypeKind::TupleType: {
      if (!value.IsArray()) return mismatch();
      auto elems = expected->expectRef<c10::TupleType>().elements();
      Napi::Array a = value.As<Napi::Array>();
      if (a.Length() != elems.size()) {
        ThrowRangeError(
            env, arg + ": expected a tuple of " + std::to_string(elems.size()) + ", got " + std::to_string(a.Length()));
      }
      std::vector<c10::IValue> items;
      for (uint32_t i = 0; i < a.Length(); i++)
        items.push_back(ToIValue(a.Get(i), elems[i], arg + "[" + std::to_string(i) + "]"));
      return c10::ivalue::Tuple::create(std::move(items));
    }
    case c10::TypeKind::DictType: {
      const auto& dict = expected->expectRef<c10::DictType>();
      if (dict.getKeyType()->kind() != c10::TypeKind::StringType)
        ThrowTypeError(env, arg + ": only Dict[str, ...] is supported");
      if (!value.IsObject() || value.IsArray() || TensorHandle::IsHandle(value)) return mismatch();
      Napi::Object o = value.As<Napi::Object>();
      c10::impl::GenericDict out(dict.getKeyType(), dict.getValueType());
      Napi::Array keys = o.GetPropertyNames();
      for (uint32_t i = 0; i < keys.Length(); i++) {
        std::string k = keys.Get(i).ToString().Utf8Value();
        out.insert(k, ToIValue(o.Get(k), dict.getValueType(), arg + "." + k));
      }
      return out;
    }
    case c10::TypeKind::AnyType:
      return GuessIValue(value, arg);
    default:
      ThrowTypeError(env, arg + ": arguments of type " + want + " cannot be passed from JavaScript");
  }
}

c10::IValue GuessIValue(Napi::Value value, const std::string& arg) {
  Napi::Env env = value.Env();
  if (IsNullish(value)) return c10::IValue();
  if (TensorHandle::IsHandle(value)) return TensorHandle::Arg(value, arg.c_str());
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value();
  if (value.IsBigInt()) return ToInt(value, arg);
  if (value.IsNumber()) {
    double d = value.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= 9007199254740991.0) return static_cast<int64_t>(d);
    return d;
  }
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  if (value.IsArray()) {
    Napi::Array a = value.As<Napi::Array>();
    bool allTensors = a.Length() > 0;
    for (uint32_t i = 0; i < a.Length() && allTensors; i++) allTensors = TensorHandle::IsHandle(a.Get(i));
    c10::TypePtr elem = allTensors ? c10::TypePtr(c10::TensorType::get()) : c10::TypePtr(c10::AnyType::get());
    c10::impl::GenericList list(elem);
    for (uint32_t i = 0; i < a.Length(); i++)
      list.push_back(GuessIValue(a.Get(i), arg + "[" + std::to_string(i) + "]"));
    return list;
  }
  if (value.IsObject() && !value.IsFunction()) {
    Napi::Object o = value.As<Napi::Object>();
    c10::impl::GenericDict out(c10::StringType::get(), c10::AnyType::get());
    Napi::Array keys = o.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); i++) {
      std::string k = keys.Get(i).ToString().Utf8Value();
      out.insert(k, GuessIValue(o.Get(k), arg + "." + k));
    }
    return out;
  }
  ThrowTypeError(env, arg + ": cannot convert " + value.ToString().Utf8Value() + " for LibTorch");
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return TensorHandle::WrapOrNull(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isTuple() || v.isList()) {
    std::vector<c10::IValue> items = v.isTuple() ? v.toTupleRef().elements().vec() : v.toListRef().vec();
    Napi::Array out = Napi::Array::New(env, items.size());
    for (size_t i = 0; i < items.size(); i++) out.Set(static_cast<uint32_t>(i), FromIValue(env, items[i]));
    return out;
  }
  if (v.isGenericDict()) {
    Napi::Object out = Napi::Object::New(env);
    for (const auto& entry : v.toGenericDict()) {
      const c10::IValue& key = entry.key();
      std::string k = key.isString() ? key.toStringRef() : key.isInt() ? std::to_string(key.toInt()) : key.tagKind();
      out.Set(k, FromIValue(env, entry.value()));
    }
    return out;
  }
  ThrowTypeError(env, "result: a value of kind " + v.tagKind() + " cannot be returned to JavaScript");
}

}  // namespace sd
