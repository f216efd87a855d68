#include "binding/errors.h"

#include <c10/util/Exception.h>

#include <exception>
#include <typeinfo>

#include "distributed/group.h"

namespace sd {
namespace {

struct ErrorClasses {
  Napi::FunctionReference torchError;
  Napi::FunctionReference disposedError;        // TensorDisposedError
  Napi::FunctionReference objectDisposedError;  // DisposedError: modules, optimizers
};

ErrorClasses* Classes(Napi::Env env) { return env.GetInstanceData<ErrorClasses>(); }

// LibTorch's message without the C++ stack trace it may carry.
std::string Clean(const std::string& message) {
  auto cut = message.find("\nException raised from ");
  std::string out = cut == std::string::npos ? message : message.substr(0, cut);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Napi::Error Construct(Napi::Env env, Napi::FunctionReference* ctor, const std::string& message,
                      const char* fallbackName) {
  if (ctor != nullptr && !ctor->IsEmpty()) {
    Napi::Object err = ctor->New({Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("name", Napi::String::New(env, fallbackName));
  return err;
}

}  // namespace

void RegisterErrorClasses(Napi::Env env, Napi::Object classes) {
  auto* data = Classes(env);
  if (data == nullptr) {
    data = new ErrorClasses();
    env.SetInstanceData(data);
  }
  data->torchError = Napi::Persistent(classes.Get("TorchError").As<Napi::Function>());
  data->disposedError = Napi::Persistent(classes.Get("TensorDisposedError").As<Napi::Function>());
  data->objectDisposedError = Napi::Persistent(classes.Get("DisposedError").As<Napi::Function>());
}

void ThrowTypeError(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

void ThrowRangeError(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

void ThrowDisposed(Napi::Env env, const std::string& message) {
  auto* data = Classes(env);
  throw Construct(env, data ? &data->disposedError : nullptr, message, "TensorDisposedError");
}

void ThrowObjectDisposed(Napi::Env env, const std::string& message) {
  auto* data = Classes(env);
  throw Construct(env, data ? &data->objectDisposedError : nullptr, message, "DisposedError");
}

Napi::Error MakeTorchError(Napi::Env env, const std::string& message, const std::string& kind) {
  auto* data = Classes(env);
  Napi::Error err = Construct(env, data ? &data->torchError : nullptr, message, "TorchError");
  err.Value().Set("kind", Napi::String::New(env, kind));
  return err;
}

CapturedError CaptureCurrentException() {
  try {
    throw;
  } catch (const c10::IndexError& e) {
    return {Clean(e.what_without_backtrace()), "IndexError"};
  } catch (const c10::ValueError& e) {
    return {Clean(e.what_without_backtrace()), "ValueError"};
  } catch (const c10::TypeError& e) {
    return {Clean(e.what_without_backtrace()), "TypeError"};
  } catch (const c10::NotImplementedError& e) {
    return {Clean(e.what_without_backtrace()), "NotImplementedError"};
  } catch (const c10::LinAlgError& e) {
    return {Clean(e.what_without_backtrace()), "LinAlgError"};
  } catch (const c10::OutOfMemoryError& e) {
    return {Clean(e.what_without_backtrace()), "OutOfMemoryError"};
  } catch (const c10::Error& e) {
    return {Clean(e.what_without_backtrace()), "Error"};
  } catch (const KindError& e) {
    return {e.what(), e.kind};
  } catch (const dist::DistributedError& e) {
    return {e.what(), "DistributedError"};
  } catch (const std::invalid_argument& e) {
    return {e.what(), "ArgTypeError"};  // native/ops' convention for a wrong type or dtype
  } catch (const std::out_of_range& e) {
    return {e.what(), "ArgRangeError"};  // ... and for a wrong shape or value
  } catch (const std::bad_alloc&) {
    return {"out of memory (std::bad_alloc)", "OutOfMemoryError"};
  } catch (const std::exception& e) {
    return {Clean(e.what()), "Error"};
  } catch (...) {
    return {"unknown C++ exception", "Error"};
  }
}

Napi::Error TranslateCapturedError(Napi::Env env, const CapturedError& error) {
  if (error.kind == "ArgTypeError") return Napi::TypeError::New(env, error.message);
  if (error.kind == "ArgRangeError") return Napi::RangeError::New(env, error.message);
  if (error.kind == "Disposed") {
    auto* data = Classes(env);
    return Construct(env, data ? &data->disposedError : nullptr, error.message, "TensorDisposedError");
  }
  return MakeTorchError(env, error.message, error.kind);
}

Napi::Error TranslateCurrentException(Napi::Env env) { return TranslateCapturedError(env, CaptureCurrentException()); }

}  // namespace sd
