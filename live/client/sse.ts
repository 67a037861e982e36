/** An incremental parser of Server-Sent Events (the WHATWG HTML "event stream" format). */

export interface SseEvent {
  /** The `event:` field; "message" when the event named none. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id seen so far (the `id:` field persists across events), if any. */
  id?: string;
  /** A `retry:` field in this event, in milliseconds. */
  retry?: number;
}

/** Feed decoded text in pieces of any size; complete events come out in order. Lines may end in
 *  "\n", "\r\n" or "\r" (a "\r" at the end of one piece and "\n" at the start of the next are one
 *  line end). Comment lines (":" first) are skipped, a leading BOM is dropped, a field line without
 *  ":" is a field with an empty value, one space after the ":" is removed, and an event is
 *  dispatched by a blank line — one with no data lines is dropped, as the spec says. Text after the
 *  last blank line when the stream ends is an incomplete event and is discarded (`end()` says so). */
export class SseParser {
  private partial = "";
  private skipLf = false;
  private started = false;
  private dataLines: string[] = [];
  private eventType = "";
  private lastEventId: string | undefined;
  private retry: number | undefined;
  private pendingFields = false;

  /** Parses a piece of the stream; returns the events it completed. */
  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let i = 0;
    if (this.skipLf && text.length > 0) {
      this.skipLf = false;
      if (text.charCodeAt(0) === 10) i = 1;
    }
    const n = text.length;
    while (i < n) {
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 10 || c === 13) break;
        j++;
      }
      if (j === n) {
        this.partial += text.slice(i);
        break;
      }
      const line = this.partial.length > 0 ? this.partial + text.slice(i, j) : text.slice(i, j);
      this.partial = "";
      if (text.charCodeAt(j) === 13) {
        if (j + 1 < n) {
          if (text.charCodeAt(j + 1) === 10) j++;
        } else {
          this.skipLf = true;
        }
      }
      i = j + 1;
      const event = this.line(line);
      if (event !== undefined) out.push(event);
    }
    return out;
  }

  /** The stream ended. Returns true when an incomplete event (or line) was discarded. */
  end(): boolean {
    const discarded = this.partial.length > 0 || this.pendingFields;
    this.partial = "";
    this.dataLines = [];
    this.eventType = "";
    this.retry = undefined;
    this.pendingFields = false;
    this.skipLf = false;
    return discarded;
  }

  private line(line: string): SseEvent | undefined {
    if (line.length === 0) return this.dispatch();
    if (line.charCodeAt(0) === 58 /* ":" */) return undefined;
    const colon = line.indexOf(":");
    let field: string;
    let value: string;
    if (colon < 0) {
      field = line;
      value = "";
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case "data":
        this.dataLines.push(value);
        this.pendingFields = true;
        break;
      case "event":
        this.eventType = value;
        this.pendingFields = true;
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) {
          this.retry = Number(value);
          this.pendingFields = true;
        }
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const hadData = this.dataLines.length > 0;
    const event: SseEvent = {
      event: this.eventType === "" ? "message" : this.eventType,
      data: this.dataLines.join("\n"),
    };
    if (this.lastEventId !== undefined) event.id = this.lastEventId;
    if (this.retry !== undefined) event.retry = this.retry;
    this.dataLines = [];
    this.eventType = "";
    this.retry = undefined;
    this.pendingFields = false;
    return hadData ? event : undefined;
  }
}
