// A small schema checker for JSON configs: every problem at once (unknown keys included),
// each named by its path, before any work starts.
import { editDistance } from '../util/suggest.js';

export type FieldSpec =
  | { type: 'number'; min?: number; max?: number; integer?: boolean; optional?: boolean }
  | { type: 'string'; optional?: boolean; oneOf?: readonly string[] }
  | { type: 'boolean'; optional?: boolean }
  | { type: 'numbers'; length?: number; optional?: boolean }
  | { type: 'strings'; optional?: boolean; oneOf?: readonly string[] }
  | { type: 'objects'; fields: Schema; optional?: boolean }
  | { type: 'object'; fields: Schema; optional?: boolean }
  | { type: 'any'; optional?: boolean };

export type Schema = Record<string, FieldSpec>;

export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    readonly source: string,
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function check(value: unknown, spec: FieldSpec, where: string, problems: string[]): void {
  if (value === undefined || value === null) {
    if (!spec.optional) problems.push(`${where}: required`);
    return;
  }
  switch (spec.type) {
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${where}: expected a number, got ${JSON.stringify(value)}`);
      else if (spec.integer && !Number.isInteger(value)) problems.push(`${where}: expected an integer, got ${value}`);
      else if (spec.min !== undefined && value < spec.min) problems.push(`${where}: expected >= ${spec.min}, got ${value}`);
      else if (spec.max !== undefined && value > spec.max) problems.push(`${where}: expected <= ${spec.max}, got ${value}`);
      return;
    case 'string':
      if (typeof value !== 'string') problems.push(`${where}: expected a string, got ${JSON.stringify(value)}`);
      else if (spec.oneOf && !spec.oneOf.includes(value)) problems.push(`${where}: expected one of ${spec.oneOf.join(', ')}, got '${value}'`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${where}: expected true or false, got ${JSON.stringify(value)}`);
      return;
    case 'numbers':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) problems.push(`${where}: expected an array of numbers`);
      else if (spec.length !== undefined && value.length !== spec.length) problems.push(`${where}: expected ${spec.length} numbers, got ${value.length}`);
      return;
    case 'strings':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) problems.push(`${where}: expected an array of strings`);
      else if (spec.oneOf)
        for (const v of value as string[]) if (!spec.oneOf.includes(v)) problems.push(`${where}: '${v}' is not one of ${spec.oneOf.join(', ')}`);
      return;
    case 'objects':
      if (!Array.isArray(value)) problems.push(`${where}: expected an array of objects`);
      else value.forEach((v, i) => check(v, { type: 'object', fields: spec.fields }, `${where}[${i}]`, problems));
      return;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) problems.push(`${where}: expected an object`);
      else checkObject(value as Record<string, unknown>, spec.fields, where, problems);
      return;
    case 'any':
      return;
  }
}

function checkObject(obj: Record<string, unknown>, schema: Schema, where: string, problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!(key in schema)) {
      const near = Object.keys(schema).find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
      problems.push(`${where ? `${where}.` : ''}${key}: unknown key${near ? ` (did you mean '${near}'?)` : ''}`);
    }
  }
  for (const [key, spec] of Object.entries(schema)) check(obj[key], spec, where ? `${where}.${key}` : key, problems);
}

/** Throws a ConfigError listing every problem of `value` against `schema`. */
export function validateConfig(value: unknown, schema: Schema, source: string): void {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push('expected a JSON object at the top level');
  else checkObject(value as Record<string, unknown>, schema, '', problems);
  if (problems.length > 0) throw new ConfigError(problems, source);
}
