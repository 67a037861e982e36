import { Redis } from "ioredis";
import { InputError } from "../../../src/core/errors.ts";

/** How the link to Redis stands, for /metrics. */
export interface LinkStats {
  up: boolean;
  /** Times the link was lost (the replica fell back to local state). */
  outages: number;
  /** Times it came back and the replica reconciled. */
  reconciles: number;
}

/** Wall milliseconds between reconnection attempts while Redis is unreachable. */
const RECONNECT_MS = 250;

/** The replica's connections to Redis: one for commands, one for the blocking stream read. Commands
 *  fail at once while Redis is unreachable (no offline queue: the gateway falls back to local state
 *  rather than wait); the link says when it goes down (one log line) and when it is back. */
export class RedisLink {
  readonly commands: Redis;
  readonly reader: Redis;
  readonly stats: LinkStats = { up: false, outages: 0, reconciles: 0 };
  /** Called once each time the link comes back after an outage. */
  onReconnect: () => void = () => {};
  private closing = false;

  constructor(
    readonly url: string,
    private readonly log: (line: string) => void,
  ) {
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: () => RECONNECT_MS,
    };
    this.commands = new Redis(url, options);
    this.reader = new Redis(url, options);
    this.commands.on("error", () => {}); // reported once per outage below, not per attempt
    this.reader.on("error", () => {});
    this.commands.on("ready", () => this.ready());
    this.commands.on("close", () => this.lost());
  }

  /** Connects both; an InputError when Redis cannot be reached at start. */
  async connect(): Promise<void> {
    try {
      await Promise.all([this.commands.connect(), this.reader.connect()]);
    } catch (error) {
      await this.close();
      throw new InputError(`--redis ${redacted(this.url)}: cannot connect (${(error as Error).message})`);
    }
    this.stats.up = true;
  }

  get up(): boolean {
    return this.stats.up && this.commands.status === "ready";
  }

  async close(): Promise<void> {
    this.closing = true;
    this.commands.disconnect();
    this.reader.disconnect();
  }

  private lost(): void {
    if (this.closing || !this.stats.up) return;
    this.stats.up = false;
    this.stats.outages++;
    this.log(`tandem gateway: Redis at ${redacted(this.url)} unreachable: routing on this replica's local state until it returns`);
  }

  private ready(): void {
    if (this.closing || this.stats.up) return;
    if (this.stats.outages === 0) return; // the first connection (connect() sets up)
    this.stats.up = true;
    this.stats.reconciles++;
    this.log(`tandem gateway: Redis at ${redacted(this.url)} is back: reconciling shared state`);
    this.onReconnect();
  }
}

/** A Redis URL without its password, for messages. */
export function redacted(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}
