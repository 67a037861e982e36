/** Removes the usage-only chunk (`choices: []` with a `usage` object, sent last when
 *  `stream_options.include_usage` is set) from an SSE stream. The gateway asks every instance for
 *  usage so that it can account tokens, and passes the chunk on only to clients that asked for it.
 *  Everything else goes through byte for byte, without decoding: bytes are held back only up to
 *  the end of the event they are part of (servers write whole events, so usually nothing is). */
export class UsageChunkFilter {
  private held: Buffer | undefined;

  /** What to forward for these bytes (possibly empty). */
  push(bytes: Buffer): Buffer | string {
    const data = this.held === undefined ? bytes : Buffer.concat([this.held, bytes]);
    const cut = lastBoundary(data);
    if (cut < 0) {
      this.held = data;
      return EMPTY;
    }
    this.held = cut < data.length ? data.subarray(cut) : undefined;
    const complete = cut < data.length ? data.subarray(0, cut) : data;
    // Only an event with an empty choices list can be the usage chunk.
    if (complete.indexOf(EMPTY_CHOICES) < 0 && complete.indexOf(EMPTY_CHOICES_SPACED) < 0) return complete;
    return dropUsageEvents(complete.toString("utf8"));
  }

  /** What is left at the end of the stream (an unterminated event, forwarded as it is). */
  end(): Buffer {
    const rest = this.held ?? EMPTY;
    this.held = undefined;
    return rest;
  }
}

const EMPTY = Buffer.alloc(0);
const EMPTY_CHOICES = Buffer.from('"choices":[]');
const EMPTY_CHOICES_SPACED = Buffer.from('"choices": []');
const LF2 = Buffer.from("\n\n");
const CRLF2 = Buffer.from("\r\n\r\n");

/** Index just after the last blank line (event boundary), or -1. */
function lastBoundary(data: Buffer): number {
  const lf = data.lastIndexOf(LF2);
  const crlf = data.lastIndexOf(CRLF2);
  if (crlf >= 0 && crlf + 4 > lf + 2) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

function dropUsageEvents(text: string): string {
  let out = "";
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n\n", start);
    end = end < 0 ? text.length : end + 2;
    const event = text.slice(start, end);
    if (!isUsageOnly(event)) out += event;
    start = end;
  }
  return out;
}

function isUsageOnly(event: string): boolean {
  if (!event.includes('"usage"')) return false;
  let data = "";
  for (const line of event.split(/\r?\n/)) {
    if (line.startsWith("data:")) data += line.slice(line.startsWith("data: ") ? 6 : 5);
  }
  try {
    const payload = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return Array.isArray(payload.choices) && payload.choices.length === 0 && payload.usage !== null && typeof payload.usage === "object";
  } catch {
    return false;
  }
}
