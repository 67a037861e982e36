import { createReadStream, type ReadStream } from "node:fs";
import { once } from "node:events";
import { InputError, inputError } from "../src/core/errors.ts";

/** What a user sees when the file itself cannot be read: the path and the reason, no stack. */
export function fileError(path: string, err: unknown, writing = false): Error {
  if (err instanceof InputError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOENT":
      return inputError(path, writing ? "cannot create the file: its directory does not exist" : "file not found");
    case "EISDIR":
      return inputError(path, "is a directory; expected a trace file");
    case "EACCES":
    case "EPERM":
      return inputError(path, "permission denied");
    case "ENOTDIR":
      return inputError(path, "a part of the path is a file, not a directory");
    case "EEXIST":
      return inputError(path, "already exists and is not a directory");
    case "EROFS":
      return inputError(path, "read-only file system");
    case "ENOSPC":
      return inputError(path, "no space left on the device");
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

/** Opens `path` for streaming; a missing or unreadable file becomes an InputError here rather than
 *  an unhandled 'error' event later. */
export async function openTraceFile(path: string, buffer_bytes?: number): Promise<ReadStream> {
  const stream = createReadStream(path, { highWaterMark: buffer_bytes });
  try {
    await once(stream, "ready");
  } catch (err) {
    stream.destroy();
    throw fileError(path, err);
  }
  return stream;
}

/** Destroys the stream and waits until its file descriptor is released, so `limit` really stops
 *  reading and leaves nothing open behind it. */
export async function closeTraceFile(stream: ReadStream): Promise<void> {
  if (stream.closed) return;
  const closed = once(stream, "close").catch(() => undefined);
  stream.destroy();
  await closed;
}
