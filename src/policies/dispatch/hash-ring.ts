import { fmix32 } from "../../core/hash.ts";
import type { InstanceView } from "../../core/view.ts";

/** FNV-1a (32-bit) over the string's UTF-16 code units (low byte, then the high byte when there is
 *  one), followed by murmur3's fmix32 finaliser: FNV-1a alone spreads keys that differ only in their
 *  last character ("i0#1", "i0#2") poorly over the high bits, which a hash ring orders by. Written
 *  here, not taken from a package, so ring positions can never change under a dependency upgrade. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h ^= code & 0xff;
    h = Math.imul(h, 0x01000193);
    if (code > 0xff) {
      h ^= code >>> 8;
      h = Math.imul(h, 0x01000193);
    }
  }
  return fmix32(h);
}

/** The key a call is kept together by: its workflow, else its tenant, else the call itself. */
export function sessionKey(call: { id: string; workflow_id?: string; tenant?: string }): string {
  if (call.workflow_id !== undefined) return `w:${call.workflow_id}`;
  if (call.tenant !== undefined) return `t:${call.tenant}`;
  return `c:${call.id}`;
}

/** A consistent-hash ring over a set of instances, `virtual_nodes` points per instance at
 *  hash32(`<instance id>#<v>`). A key belongs to the first point at or after hash32(key), wrapping.
 *  Adding or removing an instance moves only the keys whose points it owned (Karger et al. 1997). */
export class HashRing {
  private readonly points: Uint32Array;
  private readonly owners: Int32Array;

  constructor(
    private readonly instances: readonly InstanceView[],
    virtual_nodes: number,
  ) {
    const entries: { point: number; owner: number }[] = [];
    instances.forEach((instance, owner) => {
      for (let v = 0; v < virtual_nodes; v++) entries.push({ point: hash32(`${instance.spec.id}#${v}`), owner });
    });
    // Equal points (a 32-bit collision) are ordered by owner, so the ring never depends on sort stability.
    entries.sort((a, b) => a.point - b.point || a.owner - b.owner);
    this.points = Uint32Array.from(entries, (e) => e.point);
    this.owners = Int32Array.from(entries, (e) => e.owner);
  }

  /** Index of the first point at or after `hash`, wrapping to 0. */
  private start(hash: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] < hash) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.points.length ? 0 : lo;
  }

  /** The instance owning `key`. */
  owner(key: string): InstanceView {
    return this.instances[this.owners[this.start(hash32(key))]];
  }

  /** The first instance clockwise from `key` that `accept`s, visiting each instance once (the owner
   *  first); undefined when none does. */
  find(key: string, accept: (instance: InstanceView) => boolean): InstanceView | undefined {
    const seen = new Uint8Array(this.instances.length);
    let left = this.instances.length;
    const n = this.points.length;
    for (let k = 0, p = this.start(hash32(key)); k < n && left > 0; k++, p = p + 1 === n ? 0 : p + 1) {
      const owner = this.owners[p];
      if (seen[owner]) continue;
      seen[owner] = 1;
      left--;
      if (accept(this.instances[owner])) return this.instances[owner];
    }
    return undefined;
  }
}

/** Rings per candidate set (model groups, or groups narrowed by max_model_len), built on first use.
 *  The controller hands over the same array for a model group each time, so the last one is kept
 *  by identity and the id string is built only when the set changes. */
export class HashRings {
  private readonly rings = new Map<string, HashRing>();
  private lastCandidates: readonly InstanceView[] | undefined;
  private lastRing: HashRing | undefined;

  constructor(private readonly virtual_nodes: number) {}

  of(candidates: readonly InstanceView[]): HashRing {
    if (candidates === this.lastCandidates) return this.lastRing!;
    const key = candidates.map((c) => c.spec.id).join("\n");
    let ring = this.rings.get(key);
    if (!ring) {
      ring = new HashRing(candidates, this.virtual_nodes);
      this.rings.set(key, ring);
    }
    this.lastCandidates = candidates;
    this.lastRing = ring;
    return ring;
  }
}
