/** This build of the addon has no c10d process group (it was built without libgloo-dev). */
export class DistributedUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DistributedUnavailableError';
  }
}

/** Distributed settings that do not fit together (a rank outside the world, a bad address). */
export class DistributedConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DistributedConfigError';
  }
}
