/** Whether dist/ reflects the sources beside it (see dist-state.mjs). */
export function distIsCurrent(compiledEntry: URL): boolean;
