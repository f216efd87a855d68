// Loaded by `npm run test:unit`: the pure layers' tests must run on a machine without the
// native addon, so loading it fails the run instead of quietly succeeding here.
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  if (/slice_distill\.node$/.test(String(filename))) {
    throw new Error(`test:unit loaded the native addon (${filename}): a pure-layer test imports a module that needs it`);
  }
  return dlopen.call(this, module, filename, ...rest);
};
