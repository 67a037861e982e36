import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { CallUsage, LlmCall } from "../../../src/core/types.ts";
import type { RedisLink } from "./redis-link.ts";

/** What one replica tells the others, in the shared event stream. */
export type SharedEvent =
  | { k: "a"; c: LlmCall }
  | { k: "d"; c: LlmCall; i: string }
  | { k: "x"; id: string; i: string | null; u: CallUsage | null }
  /** The replica's open calls, sent when it reconnects after an outage (the others drop what it no longer has). */
  | { k: "s"; open: { c: LlmCall; i: string | null }[] };

/** Where foreign calls go: the replica's policies (shared-policies.ts). */
export interface ForeignCalls {
  arrived(call: LlmCall): void;
  dispatched(call: LlmCall, instance: string): void;
  closed(call: LlmCall, instance: string | undefined, usage: CallUsage | undefined): void;
}

interface Foreign {
  call: LlmCall;
  replica: string;
  instance: string | undefined;
  /** Wall ms when it was last seen waiting (for the global order's hold bound). */
  seen_ms: number;
}

/** A replica's entry in Redis, refreshed every heartbeat (it expires when the replica dies). */
export interface ReplicaBeat {
  /** Calls in flight per instance (observability: `redis-cli GET`). */
  outstanding: Record<string, number>;
  /** Calls in flight per API key label (observability; max_concurrency itself is redis-concurrency.ts). */
  keys: Record<string, number>;
}

export interface ReplicatorOptions {
  /** Key prefix in Redis (`tandem:gw:` + the name); replicas of one deployment share it. */
  prefix: string;
  heartbeat_ms: number;
  /** Events kept in the stream (a replica that starts reads them to catch up). */
  stream_max: number;
  /** Events kept while Redis is unreachable; older ones are dropped (counted). */
  outbox_max: number;
  beat: () => ReplicaBeat;
  /** The replica's open calls, for the snapshot after an outage. */
  openCalls: () => { c: LlmCall; i: string | null }[];
}

const FLUSH_MS = 1;

/** Shares a replica's call events with the other replicas through a Redis stream and keeps a
 *  mirror of theirs: every replica publishes its arrivals, dispatches and closes (batched each
 *  millisecond), reads the others' (blocking XREAD) and hands them to its policies, which so see
 *  the whole deployment's calls — prefix index, VTC counters, calls in flight per instance. A
 *  heartbeat key per replica (expiring after 4 beats) says who is alive: the calls of a replica
 *  whose key expired are closed in the mirror, so a dead replica takes only its own calls with it.
 *  While Redis is unreachable events wait in a bounded outbox; when it returns the outbox is sent,
 *  then a snapshot of the replica's open calls, and the others reconcile against it. */
export class Replicator {
  readonly replica = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  private outbox: SharedEvent[] = [];
  private readonly foreign = new Map<string, Foreign>();
  private readonly remoteOut = new Map<string, { calls: number; tokens: number }>();
  private lastId = "0";
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private beatTimer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private reading: Promise<void> | undefined;
  readonly counts = { published: 0, received: 0, dropped: 0, expired_calls: 0, replicas: 1 };
  private sink: ForeignCalls | undefined;

  constructor(
    private readonly link: RedisLink,
    private readonly options: ReplicatorOptions,
  ) {}

  private get streamKey(): string {
    return `${this.options.prefix}events`;
  }

  /** Starts the heartbeat and the reader (which first catches up on the stream's history). */
  async start(sink: ForeignCalls): Promise<void> {
    this.sink = sink;
    await this.beat();
    await this.refreshMembers();
    this.beatTimer = setInterval(() => void this.tick(), this.options.heartbeat_ms);
    this.reading = this.readLoop();
  }

  get up(): boolean {
    return this.link.up;
  }

  publish(event: SharedEvent): void {
    if (this.closed) return;
    this.outbox.push(event);
    if (this.outbox.length > this.options.outbox_max) {
      const drop = this.outbox.length - this.options.outbox_max;
      this.outbox.splice(0, drop);
      this.counts.dropped += drop;
    }
    this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Calls the other replicas have in flight at `instance` (0 while Redis is unreachable: local state then). */
  remoteOutstanding(instance: string): { calls: number; tokens: number } | undefined {
    return this.link.up ? this.remoteOut.get(instance) : undefined;
  }

  /** The other replicas' calls in flight per instance, as this replica's mirror has them. */
  remoteCallsByInstance(): ReadonlyMap<string, { calls: number; tokens: number }> {
    return this.remoteOut;
  }

  /** Foreign calls waiting (not yet dispatched) at live replicas, with when they were seen. */
  waitingForeign(): IterableIterator<Foreign> {
    return this.foreign.values();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearInterval(this.beatTimer);
    if (this.link.up) {
      this.flush();
      await this.link.commands
        .multi()
        .del(`${this.options.prefix}replica:${this.replica}`)
        .srem(`${this.options.prefix}replicas`, this.replica)
        .exec()
        .catch(() => {});
    }
  }

  /** Waits for the reader to stop (after the link closed). */
  async stopped(): Promise<void> {
    await this.reading?.catch(() => {});
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.outbox.length === 0 || !this.link.up) return;
    const batch = this.outbox;
    this.outbox = [];
    this.link.commands
      .xadd(this.streamKey, "MAXLEN", "~", String(this.options.stream_max), "*", "r", this.replica, "e", JSON.stringify(batch))
      .then(() => {
        this.counts.published += batch.length;
      })
      .catch(() => {
        // Redis went away mid-flight: keep the batch for the reconnect.
        this.outbox = batch.concat(this.outbox);
      });
  }

  private async tick(): Promise<void> {
    if (!this.link.up) return;
    try {
      await this.beat();
      await this.refreshMembers();
    } catch {
      // the link's close handler reports the outage
    }
  }

  private async beat(): Promise<void> {
    const key = `${this.options.prefix}replica:${this.replica}`;
    await this.link.commands
      .multi()
      .set(key, JSON.stringify(this.options.beat()), "PX", 4 * this.options.heartbeat_ms)
      .sadd(`${this.options.prefix}replicas`, this.replica)
      .exec();
  }

  /** Reads who is alive, and drops the calls of replicas gone. */
  private async refreshMembers(): Promise<void> {
    const members = (await this.link.commands.smembers(`${this.options.prefix}replicas`)).filter((r) => r !== this.replica);
    const beats = members.length === 0 ? [] : await this.link.commands.mget(...members.map((r) => `${this.options.prefix}replica:${r}`));
    const alive = new Set<string>([this.replica]);
    const gone: string[] = [];
    members.forEach((r, i) => (beats[i] === null ? gone.push(r) : alive.add(r)));
    this.counts.replicas = alive.size;
    if (gone.length > 0) await this.link.commands.srem(`${this.options.prefix}replicas`, ...gone);
    for (const [id, f] of this.foreign) {
      if (alive.has(f.replica)) continue;
      this.closeForeign(id, f, undefined);
      this.counts.expired_calls++;
    }
  }

  private async readLoop(): Promise<void> {
    while (!this.closed) {
      if (!this.link.up) {
        await sleep(100);
        continue;
      }
      try {
        const reply = (await this.link.reader.xread("COUNT", 2000, "BLOCK", 200, "STREAMS", this.streamKey, this.lastId)) as [string, [string, string[]][]][] | null;
        if (reply === null) continue;
        for (const [, entries] of reply) {
          for (const [id, fields] of entries) {
            this.lastId = id;
            const replica = fields[1];
            if (replica === this.replica) continue;
            for (const event of JSON.parse(fields[3]) as SharedEvent[]) this.apply(replica, event);
          }
        }
      } catch {
        if (!this.closed) await sleep(100);
      }
    }
  }

  private apply(replica: string, event: SharedEvent): void {
    this.counts.received++;
    const sink = this.sink!;
    switch (event.k) {
      case "a": {
        const id = `${replica}/${event.c.id}`;
        if (this.foreign.has(id)) return;
        const call = { ...event.c, id };
        this.foreign.set(id, { call, replica, instance: undefined, seen_ms: performance.now() });
        sink.arrived(call);
        return;
      }
      case "d": {
        const id = `${replica}/${event.c.id}`;
        let f = this.foreign.get(id);
        if (f === undefined) {
          f = { call: { ...event.c, id }, replica, instance: undefined, seen_ms: performance.now() };
          this.foreign.set(id, f);
          sink.arrived(f.call);
        }
        if (f.instance !== undefined) this.moveOut(f, -1);
        f.instance = event.i;
        this.moveOut(f, 1);
        sink.dispatched(f.call, event.i);
        return;
      }
      case "x": {
        const id = `${replica}/${event.id}`;
        const f = this.foreign.get(id);
        if (f !== undefined) this.closeForeign(id, f, event.u ?? undefined);
        return;
      }
      case "s": {
        const open = new Set(event.open.map((o) => `${replica}/${o.c.id}`));
        for (const [id, f] of this.foreign) if (f.replica === replica && !open.has(id)) this.closeForeign(id, f, undefined);
        for (const o of event.open) {
          const id = `${replica}/${o.c.id}`;
          const f = this.foreign.get(id);
          if (f === undefined) this.apply(replica, o.i === null ? { k: "a", c: o.c } : { k: "d", c: o.c, i: o.i });
          else if (o.i !== null && f.instance !== o.i) this.apply(replica, { k: "d", c: o.c, i: o.i });
        }
        return;
      }
    }
  }

  private closeForeign(id: string, f: Foreign, usage: CallUsage | undefined): void {
    this.foreign.delete(id);
    if (f.instance !== undefined) this.moveOut(f, -1);
    this.sink!.closed(f.call, f.instance, usage);
  }

  private moveOut(f: Foreign, sign: 1 | -1): void {
    const id = f.instance!;
    let o = this.remoteOut.get(id);
    if (o === undefined) {
      o = { calls: 0, tokens: 0 };
      this.remoteOut.set(id, o);
    }
    o.calls += sign;
    o.tokens += sign * (f.call.prompt_tokens + f.call.output_tokens);
  }

  /** After an outage: heartbeat, the events kept meanwhile, then the snapshot of open calls. */
  async reconcile(): Promise<void> {
    try {
      await this.beat();
      this.outbox.push({ k: "s", open: this.options.openCalls() });
      this.flush();
      await this.refreshMembers();
    } catch {
      // lost again: the next reconnect reconciles
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
