import { Command } from "commander";
import { mergeShards } from "./compare/merge.ts";
import { formatCompareTable } from "./compare/table.ts";
import { runAction } from "./errors.ts";

interface MergeFlags {
  out: string;
  quiet?: boolean;
}

/** `tandem compare merge DIR… --out DIR`: the shards of a comparison → its files (docs/compare.md). */
export function compareMergeCommand(): Command {
  return new Command("merge")
    .description(
      "Merge the output folders of `tandem compare --shard I/N` runs (every shard 0 … N−1 of one grid) into the comparison's " +
        "compare.csv, compare-means.csv and compare.json — byte-identical to one unsharded run — copying run folders into --out.",
    )
    .argument("<dirs...>", "folders the shards wrote (their --out); one folder may hold every shard")
    .requiredOption("--out <dir>", "output folder (may be one of the shard folders)")
    .option("--quiet", "do not print the table")
    .action((dirs: string[], flags: MergeFlags) =>
      runAction(async () => {
        const merged = mergeShards(dirs, flags.out);
        if (!flags.quiet) process.stdout.write(formatCompareTable(merged.means, merged.seeds) + "\n");
        process.stdout.write(`merged ${merged.shards} shard${merged.shards === 1 ? "" : "s"}, ${merged.runs} runs: ${merged.paths.csv}, ${merged.paths.means}, ${merged.paths.json}\n`);
      }),
    );
}
