// The SQS queue's sends retry through the AWS SDK's retry strategy: what the SDK classes as
// passing (throttling, server errors) is retried up to the bound, then a QueueUnavailableError
// (503); what retrying cannot fix (AccessDenied) fails at the first answer. A local HTTP server
// plays SQS's JSON protocol with scripted answers and counts the requests.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { QueueUnavailableError } from "../../app/src/tiers/queue";
import { SqsJobQueue } from "../../app/src/tiers/sqsQueue";

/** One scripted answer: an SQS error by its code and status, or success. */
type Answer = { error: string; status: number } | "ok";

const JSON_10 = "application/x-amz-json-1.0";
const ATTEMPTS = 3;

let server: Server;
let endpoint: string;
let script: Answer[] = [];
let requests = 0;

function answer(request: IncomingMessage, response: ServerResponse): void {
  let raw = "";
  request.on("data", (chunk: Buffer) => (raw += chunk.toString()));
  request.on("end", () => {
    requests += 1;
    const next = script.shift() ?? "ok";
    if (next === "ok") {
      // The SDK checks the body's MD5 against the one SQS reports.
      const body = (JSON.parse(raw) as { MessageBody: string }).MessageBody;
      const md5 = createHash("md5").update(body).digest("hex");
      response.writeHead(200, { "content-type": JSON_10 });
      response.end(JSON.stringify({ MessageId: `m-${requests}`, MD5OfMessageBody: md5 }));
      return;
    }
    response.writeHead(next.status, {
      "content-type": JSON_10,
      "x-amzn-query-error": `${next.error};Sender`,
    });
    response.end(
      JSON.stringify({ __type: `com.amazonaws.sqs#${next.error}`, message: next.error }),
    );
  });
}

const queue = () =>
  new SqsJobQueue({
    queueUrl: `${endpoint}/123456789012/jobs`,
    region: "us-east-1",
    endpoint,
    sendRetry: { attempts: ATTEMPTS, baseDelayMs: 1, maxDelayMs: 5 },
  });

describe("SqsJobQueue.send retries", () => {
  before(async () => {
    // Signing needs credentials of some kind; the server does not check them.
    process.env.AWS_ACCESS_KEY_ID ??= "test";
    process.env.AWS_SECRET_ACCESS_KEY ??= "test";
    server = createServer(answer);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    script = [];
    requests = 0;
  });

  it("GIVEN AccessDenied WHEN sending THEN it is not retried and fails as itself, not as 503", async () => {
    script = [{ error: "AccessDenied", status: 403 }];
    const sqs = queue();
    await assert.rejects(
      sqs.send("job"),
      (error: unknown) =>
        !(error instanceof QueueUnavailableError) && (error as Error).name === "AccessDenied",
    );
    assert.equal(requests, 1);
    await sqs.close();
  });

  it("GIVEN throttling twice WHEN sending THEN the third attempt delivers", async () => {
    script = [
      { error: "RequestThrottled", status: 400 },
      { error: "RequestThrottled", status: 400 },
    ];
    const sqs = queue();
    await sqs.send("job");
    assert.equal(requests, 3);
    await sqs.close();
  });

  it("GIVEN throttling that lasts WHEN sending THEN it gives up after the bound with QueueUnavailableError", async () => {
    script = Array.from({ length: 10 }, () => ({ error: "RequestThrottled", status: 400 }));
    const sqs = queue();
    await assert.rejects(
      sqs.send("job"),
      (error: unknown) => error instanceof QueueUnavailableError && error.attempts === ATTEMPTS,
    );
    assert.equal(requests, ATTEMPTS);
    await sqs.close();
  });

  it("GIVEN a server error WHEN sending THEN it is retried", async () => {
    script = [{ error: "InternalError", status: 500 }];
    const sqs = queue();
    await sqs.send("job");
    assert.equal(requests, 2);
    await sqs.close();
  });
});
