/**
 * The limit for a Node HTTP server on this machine: node:http answering every request with the
 * same JSON body the app serves (env BODY), on PORT, and with the same response headers when
 * HEADERS (a JSON object) is given. No routing, validation, cache or logging.
 */
import { createServer } from "node:http";

const body = Buffer.from(process.env.BODY ?? "{}");
const headers = {
  "content-type": "application/json; charset=utf-8",
  ...(JSON.parse(process.env.HEADERS ?? "{}") as Record<string, string>),
  "content-length": String(body.length),
};

createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
}).listen(Number(process.env.PORT), "127.0.0.1");
