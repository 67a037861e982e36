/** A single-node Slurm cluster (Debian's slurm-wlm and munge) started for a test, everything in a
 *  scratch folder: munged on its own key and socket, slurmctld and slurmd on free ports, state and
 *  logs in the folder (facts: /work/shared/notes/local-services.md). Needs root, as CI runs. Stop it
 *  with `stop()`, which kills the daemons it started by their pids. */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { createServer } from "node:net";
import { hostname, cpus } from "node:os";
import { join } from "node:path";

const BINARIES = ["/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/munged", "/usr/bin/sbatch", "/usr/bin/sinfo", "/usr/bin/squeue"];

/** What is missing to run a local Slurm (undefined: nothing). */
export function slurmMissing(): string | undefined {
  const absent = BINARIES.filter((path) => !existsSync(path));
  if (absent.length > 0) return `${absent.join(", ")} not found (install Debian's slurm-wlm and munge)`;
  if (process.getuid?.() !== 0) return "a local Slurm needs root (slurmd runs jobs as any user)";
  return undefined;
}

export interface LocalSlurm {
  /** Environment for sbatch, squeue, sinfo (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  dir: string;
  /** Waits until no job of this cluster is pending or running. */
  waitIdle(timeout_ms: number): Promise<void>;
  /** Kills the daemons by their pids and waits (up to 15 s) until they are gone. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readPid(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export async function startLocalSlurm(dir: string): Promise<LocalSlurm> {
  for (const sub of ["munge", "state", "spool", "log"]) mkdirSync(join(dir, sub), { recursive: true });
  chmodSync(join(dir, "munge"), 0o700);
  const key = join(dir, "munge/munge.key");
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  const socket = join(dir, "munge/munge.socket");
  const pids = { munged: join(dir, "munge/munged.pid"), slurmctld: join(dir, "slurmctld.pid"), slurmd: join(dir, "slurmd.pid") };
  execFileSync("/usr/sbin/munged", [
    "--force",
    `--key-file=${key}`,
    `--socket=${socket}`,
    `--pid-file=${pids.munged}`,
    `--log-file=${join(dir, "log/munged.log")}`,
    `--seed-file=${join(dir, "munge/seed")}`,
  ]);

  const host = hostname();
  const conf = join(dir, "slurm.conf");
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  writeFileSync(
    conf,
    [
      "ClusterName=tandemtest",
      `SlurmctldHost=${host}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      "AuthType=auth/munge",
      `AuthInfo=socket=${socket}`,
      "CredType=cred/munge",
      "SlurmUser=root",
      "SlurmdUser=root",
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core",
      "ReturnToService=2",
      "MpiDefault=none",
      `StateSaveLocation=${join(dir, "state")}`,
      `SlurmdSpoolDir=${join(dir, "spool")}`,
      `SlurmctldPidFile=${pids.slurmctld}`,
      `SlurmdPidFile=${pids.slurmd}`,
      `SlurmctldLogFile=${join(dir, "log/slurmctld.log")}`,
      `SlurmdLogFile=${join(dir, "log/slurmd.log")}`,
      `NodeName=${host} CPUs=${cpus().length} State=UNKNOWN`,
      `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      "",
    ].join("\n"),
  );
  const env = { ...process.env, SLURM_CONF: conf };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const stop = async () => {
    const started = [pids.slurmd, pids.slurmctld, pids.munged].map(readPid).filter((pid): pid is number => pid !== undefined);
    for (const pid of started) if (alive(pid)) process.kill(pid, "SIGTERM");
    const deadline = Date.now() + 15_000;
    while (started.some(alive) && Date.now() < deadline) await sleep(200);
  };
  try {
    execFileSync("/usr/sbin/slurmctld", ["-i"], { env }); // -i: no state from an earlier start
    execFileSync("/usr/sbin/slurmd", [], { env });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = spawnSync("/usr/bin/sinfo", ["-h", "-o", "%T"], { env, encoding: "utf8" }).stdout.trim();
      if (state === "idle") break;
      if (Date.now() > deadline) throw new Error(`local Slurm: node not idle after 30 s (sinfo: ${JSON.stringify(state)}); logs in ${join(dir, "log")}`);
      await sleep(500);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    env,
    dir,
    async waitIdle(timeout_ms) {
      const deadline = Date.now() + timeout_ms;
      for (;;) {
        const queue = spawnSync("/usr/bin/squeue", ["-h", "-o", "%i %T"], { env, encoding: "utf8" }).stdout.trim();
        if (queue === "") return;
        if (Date.now() > deadline) throw new Error(`local Slurm: jobs still queued after ${timeout_ms} ms:\n${queue}`);
        await sleep(1000);
      }
    },
    stop,
  };
}
