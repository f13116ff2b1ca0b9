// Small helpers the other runtime modules share.

const isObject = (v) => v && typeof v === "object" && !Array.isArray(v);

export const clone = (v) => JSON.parse(JSON.stringify(v));

// Deep-merge `source` into `target` (objects merge, anything else replaces); returns target.
export function merge(target, source) {
  for (const [key, value] of Object.entries(source || {})) {
    if (isObject(value) && isObject(target[key])) merge(target[key], value);
    else target[key] = value;
  }
  return target;
}

// A number as the page shows it: integers whole, others to 4 significant digits.
export function formatValue(v) {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en");
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toPrecision(4).replace(/\.?0+$/, "");
}
