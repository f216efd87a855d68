// Turning C++ failures into typed JavaScript errors.
//
// Every binding is registered through Guarded<>, so no C++ exception ever unwinds into
// Node: c10::Error and std::exception become TorchError (the JS class handed over by the
// TypeScript layer at load time), argument problems become TypeError / RangeError.
#pragma once
#include <napi.h>

#include <stdexcept>
#include <string>

namespace sd {

// A failure with a TorchError kind of its own (e.g. "LoadError"), thrown where JS objects
// are out of reach (worker threads) and translated on the main thread.
struct KindError : std::runtime_error {
  KindError(std::string kind, const std::string& message) : std::runtime_error(message), kind(std::move(kind)) {}
  std::string kind;
};

// Called once from the TS loader with {TorchError, TensorDisposedError, DisposedError}.
void RegisterErrorClasses(Napi::Env env, Napi::Object classes);

// Argument errors: the message should start with the argument's name.
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowDisposed(Napi::Env env, const std::string& message);
// A disposed module or optimizer (DisposedError).
[[noreturn]] void ThrowObjectDisposed(Napi::Env env, const std::string& message);

// A TorchError built from a message and a kind ("Error", "IndexError", ...).
Napi::Error MakeTorchError(Napi::Env env, const std::string& message, const std::string& kind);

// Call only inside a catch block: maps the in-flight exception to a JS error.
Napi::Error TranslateCurrentException(Napi::Env env);

// The message and kind of the in-flight exception, for worker threads that cannot
// touch JS objects; TranslateCapturedError rebuilds the JS error on the main thread.
struct CapturedError {
  std::string message;
  std::string kind;  // a c10 kind ("Error", "IndexError", ...), "ArgTypeError", "ArgRangeError" or "Disposed"
};
CapturedError CaptureCurrentException();
Napi::Error TranslateCapturedError(Napi::Env env, const CapturedError& error);

// Runs f; any C++ exception other than a Napi::Error becomes the matching JS error.
template <typename F>
Napi::Value GuardCall(Napi::Env env, F&& f) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw TranslateCurrentException(env);
  }
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  return GuardCall(info.Env(), [&] { return F(info); });
}

// For ObjectWrap classes: node-addon-api only catches Napi::Error around instance methods,
// so each is registered as InstanceMethod<&T::template Guarded<&T::Method>>.
#define SD_GUARDED_METHODS(T)                                             \
  template <Napi::Value (T::*M)(const Napi::CallbackInfo&)>               \
  Napi::Value Guarded(const Napi::CallbackInfo& info) {                   \
    return ::sd::GuardCall(info.Env(), [&] { return (this->*M)(info); }); \
  }

}  // namespace sd
