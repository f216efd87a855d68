// CSV text (RFC 4180 quoting): null, undefined and non-finite numbers become empty fields.

function csvField(v: unknown): string {
  const s = v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows (the first one usually the header) as CSV text ending in a newline. */
export function csv(rows: readonly (readonly unknown[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
