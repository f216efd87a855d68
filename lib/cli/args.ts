// A small command-line parser: one spec per subcommand (options with types, defaults and
// help text, positionals), strict about unknown flags and malformed values, and the help
// text generated from the same spec.
import { suggest } from '../util/suggest.js';

export type OptionType = 'string' | 'number' | 'integer' | 'boolean';

export interface OptionSpec {
  type: OptionType;
  description: string;
  default?: string | number | boolean;
  required?: boolean;
  /** A one-letter alias, e.g. 'o' for -o. */
  short?: string;
  /** Shown in the help after the flag, e.g. DIR. */
  placeholder?: string;
  /** May be given several times; the value is then an array (empty when never given). */
  multiple?: boolean;
  /** The smallest value a number / integer option accepts. */
  min?: number;
}

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** The last positional only: takes every remaining argument (at least one when required). */
  variadic?: boolean;
}

export type OptionValues = Record<string, string | number | boolean | (string | number)[] | undefined>;

export interface ParsedArgs {
  options: OptionValues;
  positionals: string[];
  help: boolean;
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export interface CommandSpec {
  name: string;
  /** One line, for the command list. */
  summary: string;
  /** Longer text for --help (optional). */
  description?: string;
  positionals?: PositionalSpec[];
  options: Record<string, OptionSpec>;
  /** Example invocations for --help. */
  examples?: string[];
  /** Runs the command; returns the exit code (0 when omitted). */
  run(args: ParsedArgs, io: Io): Promise<number | void>;
}

/** A mistake in how the command was called: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

function convert(spec: OptionSpec, flag: string, raw: string, command: string): string | number | boolean {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'boolean':
      if (['true', '1', 'yes'].includes(raw)) return true;
      if (['false', '0', 'no'].includes(raw)) return false;
      throw new UsageError(`${flag} expects true or false, got '${raw}'`, command);
    case 'number':
    case 'integer': {
      const v = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(v) || (spec.type === 'integer' && !Number.isInteger(v))) {
        throw new UsageError(`${flag} expects ${spec.type === 'integer' ? 'an integer' : 'a number'}, got '${raw}'`, command);
      }
      if (spec.min !== undefined && v < spec.min) throw new UsageError(`${flag} expects a value >= ${spec.min}, got '${raw}'`, command);
      return v;
    }
  }
}

/** Parses argv (without the command name) against a command's spec. */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: OptionValues = {};
  const positionals: string[] = [];
  const names = Object.keys(spec.options);
  const byShort = new Map(
    Object.entries(spec.options)
      .filter(([, o]) => o.short)
      .map(([n, o]) => [o.short!, n]),
  );
  let help = false;
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const short = arg.slice(1, 2);
      const long = byShort.get(short);
      if (!long || arg.length > 2) throw new UsageError(`unknown option ${arg}`, spec.name);
      name = long;
    }
    let negated = false;
    if (!(name in spec.options) && name.startsWith('no-') && spec.options[name.slice(3)]?.type === 'boolean') {
      name = name.slice(3);
      negated = true;
    }
    const opt = spec.options[name];
    if (!opt) {
      const hint = suggest(name, names);
      throw new UsageError(`unknown option --${name}${hint ? ` (did you mean --${hint}?)` : ''}`, spec.name);
    }
    if (name in options && !(opt.multiple && opt.type !== 'boolean')) throw new UsageError(`--${name} given twice`, spec.name);
    if (opt.type === 'boolean') {
      if (negated && inline !== undefined) throw new UsageError(`--no-${name} takes no value`, spec.name);
      options[name] = negated ? false : inline === undefined ? true : convert(opt, `--${name}`, inline, spec.name);
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UsageError(`--${name} needs a value`, spec.name);
      raw = next;
      i++;
    }
    const value = convert(opt, `--${name}`, raw, spec.name) as string | number;
    options[name] = opt.multiple ? [...((options[name] as (string | number)[] | undefined) ?? []), value] : value;
  }
  if (!help) {
    for (const [name, opt] of Object.entries(spec.options)) {
      if (options[name] === undefined) {
        if (opt.required) throw new UsageError(`--${name} is required`, spec.name);
        if (opt.default !== undefined) options[name] = opt.default;
        else if (opt.multiple && opt.type !== 'boolean') options[name] = [];
      }
    }
    const pos = spec.positionals ?? [];
    const required = pos.filter((p) => p.required !== false).length;
    if (positionals.length < required) throw new UsageError(`missing ${pos[positionals.length].name.toUpperCase()}`, spec.name);
    if (positionals.length > pos.length && !pos.at(-1)?.variadic) throw new UsageError(`unexpected argument '${positionals[pos.length]}'`, spec.name);
  }
  return { options, positionals, help };
}

/** The --help text of a command. */
export function formatHelp(spec: CommandSpec, program: string): string {
  const pos = (spec.positionals ?? []).map((p) => {
    const name = `${p.name.toUpperCase()}${p.variadic ? '...' : ''}`;
    return p.required === false ? `[${name}]` : name;
  });
  const lines = [`Usage: ${program} ${spec.name} ${[...pos, '[options]'].join(' ')}`, '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  if (spec.positionals?.length) {
    lines.push('', 'Arguments:');
    for (const p of spec.positionals) lines.push(`  ${p.name.toUpperCase().padEnd(24)} ${p.description}`);
  }
  lines.push('', 'Options:');
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'boolean' ? '' : ` ${o.placeholder ?? (o.type === 'string' ? 'VALUE' : 'N')}`}`;
    const extra = (o.required ? ' (required)' : o.default !== undefined ? ` (default: ${o.default})` : '') + (o.multiple ? ' (repeatable)' : '');
    return [flag, `${o.description}${extra}`];
  });
  rows.push(['-h, --help', 'Show this help']);
  for (const [flag, text] of rows) lines.push(`  ${flag.padEnd(24)} ${text}`);
  if (spec.examples?.length) {
    lines.push('', 'Examples:');
    for (const e of spec.examples) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}
