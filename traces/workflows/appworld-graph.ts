import { inputError } from "../../src/core/errors.ts";
import { topologicalOrder } from "../../src/workflow/dag.ts";
import type { AppWorldDag } from "./appworld-schema.ts";

/** The node graph of an AppWorld DAG by index, with a topological order. */
export interface NodeGraph {
  readonly predecessors: readonly (readonly number[])[];
  /** Node indexes, every node after its predecessors; ties keep file order. */
  readonly topological: readonly number[];
}

/** Builds the graph; duplicate ids, edges to missing nodes and cycles are InputErrors naming the
 *  file and the nodes. */
export function nodeGraph(dag: AppWorldDag, file: string): NodeGraph {
  const index = new Map<string, number>();
  dag.nodes.forEach((node, i) => {
    if (index.has(node.id)) throw inputError(`${file}: nodes[${i}].id`, `node "${node.id}" is defined twice; expected unique ids`);
    index.set(node.id, i);
  });
  const predecessors: number[][] = dag.nodes.map(() => []);
  const successors: number[][] = dag.nodes.map(() => []);
  dag.edges.forEach((edge, e) => {
    const source = index.get(edge.source);
    const target = index.get(edge.target);
    if (source === undefined) throw inputError(`${file}: edges[${e}].source`, `node "${edge.source}" does not exist`);
    if (target === undefined) throw inputError(`${file}: edges[${e}].target`, `node "${edge.target}" does not exist`);
    if (predecessors[target].includes(source)) return; // a repeated edge adds nothing
    predecessors[target].push(source);
    successors[source].push(target);
  });
  const { topological, cycle } = topologicalOrder(predecessors, successors);
  if (cycle) {
    const ids = cycle.map((i) => dag.nodes[i].id);
    throw inputError(`${file}: edges`, `nodes form a cycle: ${[...ids, ids[0]].join(" → ")}; expected a DAG`);
  }
  return { predecessors, topological };
}

/** For every node, the nearest kept nodes behind it: edges through dropped (bookkeeping) nodes
 *  join their predecessors to their successors, transitively. Sorted by node index. */
export function contractedPredecessors(graph: NodeGraph, kept: (i: number) => boolean): number[][] {
  const frontier: number[][] = graph.predecessors.map(() => []);
  for (const i of graph.topological) {
    const found = new Set<number>();
    for (const p of graph.predecessors[i]) {
      if (kept(p)) found.add(p);
      else for (const q of frontier[p]) found.add(q);
    }
    frontier[i] = [...found].sort((a, b) => a - b);
  }
  return frontier;
}

/** Marks the ancestors of `from` (not `from` itself), never walking past a node already in
 *  `stop`: an ancestor of a stopped node is stopped too, so those are exactly the ancestors of
 *  `from` that are not ancestors of the stop set. */
export function ancestorsExcept(graph: NodeGraph, from: number, stop: ReadonlySet<number>): number[] {
  const seen = new Set<number>();
  const stack = [...graph.predecessors[from]];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p) || stop.has(p)) continue;
    seen.add(p);
    stack.push(...graph.predecessors[p]);
  }
  return [...seen].sort((a, b) => a - b);
}

/** `node` and all its ancestors. */
export function ancestorsAndSelf(graph: NodeGraph, node: number): Set<number> {
  const seen = new Set<number>([node]);
  const stack = [...graph.predecessors[node]];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    stack.push(...graph.predecessors[p]);
  }
  return seen;
}
