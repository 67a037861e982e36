import type { AppWorldDag } from "./appworld-schema.ts";
import type { NodeGraph } from "./appworld-graph.ts";

/** Where an agent_response's conversation stands: the agent's previous response in the same session
 *  (whose context this call continues) and the node after which new messages count as its input. */
export interface ResponseContext {
  /** The same agent's previous agent_response in this session; undefined for a session's first. */
  previous?: number;
  /** Messages after this node (not among its ancestors) are new input; undefined = since the task
   *  began. It is `previous`, or else the agent_entry (or agent_exit) that opened the session. */
  since?: number;
}

/** Per agent: last response and session opener on the way to a node. */
type AgentState = Map<string, { previous?: number; opener?: number }>;

/** Finds each agent_response's context by walking the nodes in topological order. The Supervisor
 *  (which has no entry/exit nodes) has one session for the whole task; an app agent's session runs
 *  from its agent_entry to its agent_exit, and a new entry starts a fresh conversation. Where
 *  branches join, the state reached later in topological order wins (the real DAGs are chains). */
export function responseContexts(dag: AppWorldDag, graph: NodeGraph): Map<number, ResponseContext> {
  const position = new Int32Array(dag.nodes.length);
  graph.topological.forEach((node, k) => (position[node] = k));
  // Every state holds a previous response or an opener: entries, exits and responses create them.
  const latest = (s: { previous?: number; opener?: number }) => position[(s.previous ?? s.opener)!];

  const states: AgentState[] = new Array(dag.nodes.length);
  const contexts = new Map<number, ResponseContext>();
  for (const i of graph.topological) {
    const state: AgentState = new Map();
    for (const p of graph.predecessors[i]) {
      for (const [agent, s] of states[p]) {
        const current = state.get(agent);
        if (!current || latest(s) > latest(current)) state.set(agent, s);
      }
    }
    const node = dag.nodes[i];
    const agent = node.agent!;
    switch (node.type) {
      case "agent_entry":
      case "agent_exit":
        // Either way the old conversation is over; only messages after this node are new.
        state.set(agent, { opener: i });
        break;
      case "agent_response": {
        const s = state.get(agent) ?? {};
        contexts.set(i, { previous: s.previous, since: s.previous ?? s.opener });
        state.set(agent, { previous: i, opener: s.opener });
        break;
      }
    }
    states[i] = state;
  }
  return contexts;
}
