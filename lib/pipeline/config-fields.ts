// The configuration's one declaration: per key its check and its default. SCHEMA (what a file
// may hold) and DEFAULTS (what a key left out means) are both read from it, and the compiler
// holds it to the PipelineConfig interface: every key of the type has an entry and every
// required key a default of its type. docs/config.md is checked against it by a test.
import type { FieldSpec, Schema } from './config-schema.js';

type Primitive = number | string | boolean;
type LeafSpec = Exclude<FieldSpec, { type: 'object' }>;
type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
/** Whether a value is a section of the file (a plain object) rather than a leaf value. */
type IsSection<V> = V extends readonly unknown[] ? false : V extends Primitive ? false : V extends object ? true : false;

/**
 * One key: a leaf with its check and a default (required where the type requires the key and
 * the section is always there), or a section; an optional section (e.g. init weights) is given
 * whole or not at all, so its keys need no defaults.
 */
type Entry<V, Optional extends boolean> =
  IsSection<NonNullable<V>> extends true
    ? { type: 'object'; fields: Declaration<NonNullable<V>, Optional> }
    : LeafSpec & (Optional extends true ? { default?: V } : { default: V });

export type Declaration<T, AllOptional extends boolean = false> = {
  [K in keyof T]-?: Entry<T[K], AllOptional extends true ? true : K extends OptionalKeys<T> ? true : false>;
};

type AnyEntry = (LeafSpec & { default?: unknown }) | { type: 'object'; fields: Record<string, AnyEntry> };

/** The schema of a declaration: the checks, keys optional (defaults fill the rest) unless marked `optional: false`. */
export function schemaOf(declaration: Record<string, AnyEntry>): Schema {
  const out: Schema = {};
  for (const [key, entry] of Object.entries(declaration)) {
    if (entry.type === 'object') out[key] = { type: 'object', optional: true, fields: schemaOf(entry.fields) };
    else {
      const { default: _default, ...spec } = entry;
      // optional unless marked otherwise (a key an optional section cannot do without)
      out[key] = { ...spec, optional: spec.optional ?? true } as FieldSpec;
    }
  }
  return out;
}

/** The defaults of a declaration, as fresh objects (callers may change them). */
export function defaultsOf(declaration: Record<string, AnyEntry>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(declaration)) {
    if (entry.type === 'object') {
      const section = defaultsOf(entry.fields);
      if (Object.keys(section).length > 0) out[key] = section;
    } else if (entry.default !== undefined) out[key] = structuredClone(entry.default);
  }
  return out;
}

/** Every leaf key with its default, as dotted paths (for the documentation check). */
export function leavesOf(declaration: Record<string, AnyEntry>, prefix = ''): { key: string; default: unknown }[] {
  return Object.entries(declaration).flatMap(([key, entry]) =>
    entry.type === 'object' && Object.values(entry.fields).some((e) => e.type === 'object' || 'default' in e)
      ? leavesOf(entry.fields, `${prefix}${key}.`)
      : [{ key: `${prefix}${key}`, default: entry.type === 'object' ? undefined : entry.default }],
  );
}
