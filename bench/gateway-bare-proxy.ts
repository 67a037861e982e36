/** The floor the gateway is compared against (docs/gateway.md, Performance): an HTTP proxy that
 *  does nothing but forward — Node's HTTP server, an undici pool dispatch, one JSON.parse of the
 *  request and one of the answer — to the server at the URL given. It prints `listening on URL`;
 *  drive it and the server with the same load (e.g. wrk) and compare requests/s and CPU per request.
 *  Usage: node --import tsx bench/gateway-bare-proxy.ts http://127.0.0.1:PORT */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

const target = process.argv[2];
if (target === undefined) {
  process.stderr.write("usage: node --import tsx bench/gateway-bare-proxy.ts UPSTREAM_URL\n");
  process.exit(2);
}
const pool = new Pool(target, { connections: 256, pipelining: 1 });
const headers = { "content-type": "application/json" };

const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    JSON.parse(body.toString("utf8"));
    const out: Buffer[] = [];
    let status = 0;
    let type = "application/json";
    pool.dispatch(
      { path: req.url ?? "/", method: "POST", headers, body },
      {
        onRequestStart() {},
        onResponseStart(_c, code, h) {
          status = code;
          if (typeof h["content-type"] === "string") type = h["content-type"];
        },
        onResponseData(_c, chunk) {
          out.push(chunk);
        },
        onResponseEnd() {
          const answer = Buffer.concat(out);
          JSON.parse(answer.toString("utf8"));
          res.writeHead(status, { "content-type": type, "content-length": answer.length }).end(answer);
        },
        onResponseError() {
          res.destroy();
        },
      },
    );
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
