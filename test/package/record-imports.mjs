// `node --import ./record-imports.mjs …`: appends every module URL the process resolves to the
// file $TANDEM_IMPORT_LOG, so a test can say which packages a command loaded.
import { register } from "node:module";

register("./record-imports-hooks.mjs", import.meta.url, { data: { file: process.env.TANDEM_IMPORT_LOG } });
