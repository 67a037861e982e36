#!/usr/bin/env -S node --max-semi-space-size=64
// A 64 MB young generation: the simulator allocates many short-lived objects per call, and the
// default semi-space makes big runs spend about a quarter of their time in scavenges.
// Runs the TypeScript CLI through tsx's loader, so a fresh clone needs no build step.
import { register } from "tsx/esm/api";
register();
await import("../cli/main.ts");
