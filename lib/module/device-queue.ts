// One queue per device: async native work on a device runs one call at a time, in order,
// so two steps never race on one module and a caller's order is the execution order.
const tails = new Map<string, Promise<unknown>>();

export function enqueue<T>(device: string, work: () => Promise<T>): Promise<T> {
  const previous = tails.get(device) ?? Promise.resolve();
  const run = previous.then(work, work);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(device, tail);
  void tail.then(() => {
    if (tails.get(device) === tail) tails.delete(device);
  });
  return run;
}
