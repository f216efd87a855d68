// --window LO,HI: an HU window, as preview and predict take it.
import { UsageError } from './args.js';

export function parseWindowOption(value: unknown, command: string): [number, number] {
  const win = String(value).split(',').map(Number);
  if (win.length !== 2 || !win.every(Number.isFinite) || win[0]! >= win[1]!)
    throw new UsageError(`--window expects LO,HI with LO < HI, got '${String(value)}'`, command);
  return win as [number, number];
}
