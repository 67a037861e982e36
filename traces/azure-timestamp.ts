/** Parsing of the Azure LLM trace's TIMESTAMP column, e.g. `2023-11-16 18:15:46.6805900` (UTC,
 *  up to 9 fractional digits). Done by hand: Date's string parsing keeps only milliseconds, and a
 *  regex per row is slow at 10^6 rows. */

/** A timestamp split so that differences keep sub-microsecond precision: whole seconds since the
 *  Unix epoch (an exact integer) and the fraction of the second. */
export interface SplitTimestamp {
  whole_s: number;
  fraction_s: number;
}

const ZERO = 48;

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  return value;
}

// Rows arrive in time order, so the day rarely changes: remember the last one's epoch seconds.
let cachedDayKey = -1;
let cachedDayStart_s = 0;

function dayStart_s(year: number, month: number, day: number): number {
  const key = year * 10000 + month * 100 + day;
  if (key === cachedDayKey) return cachedDayStart_s;
  const ms = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2023-02-30 over into March; a round trip catches impossible dates.
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return NaN;
  }
  cachedDayKey = key;
  cachedDayStart_s = ms / 1000;
  return cachedDayStart_s;
}

/** Parses `YYYY-MM-DD HH:MM:SS[.f…]` (a `T` separator and a trailing `Z` are accepted too) into
 *  whole epoch seconds and a fraction; returns false when the text is not such a timestamp. Writes
 *  into `out` so that the per-row hot path allocates nothing. */
export function parseAzureTimestampInto(raw: string, out: SplitTimestamp): boolean {
  let text = raw;
  if (text.charCodeAt(0) === 32 || text.charCodeAt(text.length - 1) <= 32) text = text.trim();
  if (text.charCodeAt(text.length - 1) === 90 /* Z */) text = text.slice(0, -1);
  if (text.length < 19) return false;
  const sep = text.charCodeAt(10);
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || (sep !== 32 && sep !== 84)) return false;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31)) return false;
  if (!(hour <= 23 && minute <= 59 && second <= 59)) return false;
  let fraction_s = 0;
  if (text.length > 19) {
    const count = text.length - 20;
    if (text.charCodeAt(19) !== 46 || count < 1 || count > 9) return false;
    const fraction = digits(text, 20, count);
    if (Number.isNaN(fraction)) return false;
    fraction_s = fraction / 10 ** count;
  }
  const start_s = dayStart_s(year, month, day);
  if (Number.isNaN(start_s)) return false;
  out.whole_s = start_s + hour * 3600 + minute * 60 + second;
  out.fraction_s = fraction_s;
  return true;
}

/** Convenience form of parseAzureTimestampInto; undefined when the text is not a timestamp. */
export function parseAzureTimestamp(raw: string): SplitTimestamp | undefined {
  const out = { whole_s: 0, fraction_s: 0 };
  return parseAzureTimestampInto(raw, out) ? out : undefined;
}

/** Seconds from `origin` to `t`, subtracting whole seconds exactly before adding fractions. */
export function secondsBetween(origin: SplitTimestamp, t: SplitTimestamp): number {
  return t.whole_s - origin.whole_s + (t.fraction_s - origin.fraction_s);
}
