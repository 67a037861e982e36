import { classicalMds1d } from "./classical-mds.ts";
import { wasserstein1 } from "./wasserstein.ts";

/** Kairos's offline agent priorities from per-call latencies grouped by agent (an earlier run):
 *  1. each agent's latency samples are a distribution; the ideal is a point mass at 0 s;
 *  2. the pairwise Wasserstein-1 distances of the agents and the ideal form a distance matrix;
 *  3. 1-D classical MDS places them on a line;
 *  4. an agent's priority is its distance from the ideal along that line, in seconds.
 *  Lower priority values are served first: the agents whose latencies sit nearest to zero go ahead
 *  (shortest-job-first at the level of agents, which lowers mean latency), the slowest agents last.
 *  This is the orientation of Kairos's released code, which sorts agents by |x − x_ideal| ascending.
 *  Agents without samples are left out. */
export function kairosStaticPriorities(latencies: ReadonlyMap<string, readonly number[]>): Record<string, number> {
  const agents = [...latencies.keys()].filter((a) => latencies.get(a)!.length > 0).sort();
  const dists = [...agents.map((a) => latencies.get(a)!), [0]];
  const n = dists.length;
  const d = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) d[i][j] = d[j][i] = wasserstein1(dists[i], dists[j]);
  }
  const x = classicalMds1d(d);
  const ideal = x[n - 1];
  const out: Record<string, number> = {};
  agents.forEach((agent, i) => (out[agent] = Math.abs(x[i] - ideal)));
  return out;
}
