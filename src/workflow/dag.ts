import { InputError } from "../core/errors.ts";
import type { StepSpec, WorkflowSpec } from "./types.ts";

/** A workflow's steps by index, with predecessor and successor lists, in a topological order. */
export interface WorkflowDag {
  readonly steps: readonly StepSpec[];
  readonly index: ReadonlyMap<string, number>;
  readonly predecessors: readonly (readonly number[])[];
  readonly successors: readonly (readonly number[])[];
  /** Step indexes such that every step comes after its predecessors. */
  readonly topological: readonly number[];
}

/** Builds the DAG; an edge to a missing step or a cycle is an InputError naming the workflow,
 *  the step and (for a cycle) the steps on it. `where` prefixes messages (e.g. "wf.jsonl:3"). */
export function buildDag(workflow: WorkflowSpec, where: string): WorkflowDag {
  const at = `${where}: workflow "${workflow.id}"`;
  const index = new Map<string, number>();
  workflow.steps.forEach((step, i) => {
    if (index.has(step.id)) throw new InputError(`${at}: steps[${i}].id: step "${step.id}" is defined twice`);
    index.set(step.id, i);
  });
  const predecessors = workflow.steps.map((step, i) =>
    step.after.map((dep, j) => {
      const d = index.get(dep);
      if (d === undefined) throw new InputError(`${at}: steps[${i}].after[${j}]: step "${dep}" does not exist`);
      if (d === i) throw new InputError(`${at}: steps[${i}].after[${j}]: step "${dep}" depends on itself`);
      return d;
    }),
  );
  const successors: number[][] = workflow.steps.map(() => []);
  predecessors.forEach((preds, i) => preds.forEach((p) => successors[p].push(i)));

  const { topological, cycle } = topologicalOrder(predecessors, successors);
  if (cycle) {
    const ids = cycle.map((i) => workflow.steps[i].id);
    throw new InputError(`${at}: steps form a cycle: ${[...ids, ids[0]].join(" → ")}`);
  }
  return { steps: workflow.steps, index, predecessors, successors, topological };
}

/** Kahn's algorithm over a graph given as predecessor and successor lists: nodes in an order where
 *  each comes after its predecessors (ties in index order), or, when some cannot be ordered, a
 *  cycle among them (its nodes in edge order). */
export function topologicalOrder(predecessors: readonly (readonly number[])[], successors: readonly (readonly number[])[]): { topological: number[]; cycle: number[] | undefined } {
  const remaining = predecessors.map((p) => p.length);
  const topological: number[] = [];
  remaining.forEach((n, i) => n === 0 && topological.push(i));
  for (let head = 0; head < topological.length; head++) {
    for (const s of successors[topological[head]]) if (--remaining[s] === 0) topological.push(s);
  }
  if (topological.length === predecessors.length) return { topological, cycle: undefined };
  // Whatever is left lies on or behind a cycle: walk predecessor edges among it until a node repeats.
  let current = remaining.findIndex((n) => n > 0);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  while (!seenAt.has(current)) {
    seenAt.set(current, path.length);
    path.push(current);
    current = predecessors[current].find((p) => remaining[p] > 0)!;
  }
  return { topological, cycle: path.slice(seenAt.get(current)).reverse() };
}

/** Ancestors of step `i` (transitively), as a set of indexes. */
export function ancestorsOf(dag: WorkflowDag, i: number): Set<number> {
  const seen = new Set<number>();
  const stack = [...dag.predecessors[i]];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    stack.push(...dag.predecessors[p]);
  }
  return seen;
}

/** Longest path through the DAG where each step costs `cost(i)`: the finish time of every step
 *  when nothing waits (earliest finish), and their maximum (the critical path). */
export function longestPath(dag: WorkflowDag, cost: (i: number) => number): { finish_s: Float64Array; length_s: number } {
  const finish_s = new Float64Array(dag.steps.length);
  let length_s = 0;
  for (const i of dag.topological) {
    let start = 0;
    for (const p of dag.predecessors[i]) if (finish_s[p] > start) start = finish_s[p];
    finish_s[i] = start + cost(i);
    if (finish_s[i] > length_s) length_s = finish_s[i];
  }
  return { finish_s, length_s };
}

/** DAG depth (steps on the longest chain) and width (most steps at one depth level). */
export function dagShape(dag: WorkflowDag): { depth: number; width: number } {
  const level = new Int32Array(dag.steps.length);
  const perLevel: number[] = [];
  for (const i of dag.topological) {
    let l = 0;
    for (const p of dag.predecessors[i]) if (level[p] + 1 > l) l = level[p] + 1;
    level[i] = l;
    perLevel[l] = (perLevel[l] ?? 0) + 1;
  }
  return { depth: perLevel.length, width: Math.max(0, ...perLevel) };
}
