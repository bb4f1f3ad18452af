// The SQS queue's sends retry through the AWS SDK's retry strategy: what the SDK classes as
// passing (throttling, server errors) is retried up to the bound, then a QueueUnavailableError
// (503); what retrying cannot fix (AccessDenied) fails at the first answer. A batch delete tries
// an entry that failed on SQS's side once more, and answers the rest as undeleted. A local HTTP
// server plays SQS's JSON protocol with scripted answers and records the requests.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { QueueUnavailableError, type QueueMessage } from "../../app/src/tiers/queue";
import { SqsJobQueue } from "../../app/src/tiers/sqsQueue";

/** A batch entry SQS failed, as it answers it. */
interface FailedEntry {
  Id: string;
  SenderFault: boolean;
  Code: string;
}

/** One scripted answer: an SQS error by its code and status, success, or a batch with failed entries. */
type Answer = { error: string; status: number } | "ok" | { failed: FailedEntry[] };

interface SqsRequest {
  MessageBody?: string;
  Entries?: { Id: string; ReceiptHandle: string }[];
}

const JSON_10 = "application/x-amz-json-1.0";
const ATTEMPTS = 3;

let server: Server;
let endpoint: string;
let script: Answer[] = [];
let requests: SqsRequest[] = [];

function answer(request: IncomingMessage, response: ServerResponse): void {
  let raw = "";
  request.on("data", (chunk: Buffer) => (raw += chunk.toString()));
  request.on("end", () => {
    const body = JSON.parse(raw) as SqsRequest;
    requests.push(body);
    const next = script.shift() ?? "ok";
    if (next !== "ok" && "error" in next) {
      response.writeHead(next.status, {
        "content-type": JSON_10,
        "x-amzn-query-error": `${next.error};Sender`,
      });
      response.end(
        JSON.stringify({ __type: `com.amazonaws.sqs#${next.error}`, message: next.error }),
      );
      return;
    }
    response.writeHead(200, { "content-type": JSON_10 });
    if (body.Entries !== undefined) {
      const failed = next === "ok" ? [] : next.failed;
      const successful = body.Entries.filter((entry) => !failed.some((f) => f.Id === entry.Id));
      response.end(
        JSON.stringify({ Successful: successful.map(({ Id }) => ({ Id })), Failed: failed }),
      );
      return;
    }
    // The SDK checks the body's MD5 against the one SQS reports.
    const md5 = createHash("md5").update(body.MessageBody!).digest("hex");
    response.end(JSON.stringify({ MessageId: `m-${requests.length}`, MD5OfMessageBody: md5 }));
  });
}

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
  requests = [];
});

const queue = () =>
  new SqsJobQueue({
    queueUrl: `${endpoint}/123456789012/jobs`,
    region: "us-east-1",
    endpoint,
    sendRetry: { attempts: ATTEMPTS, baseDelayMs: 1, maxDelayMs: 5 },
  });

describe("SqsJobQueue.send retries", () => {
  it("GIVEN AccessDenied WHEN sending THEN it is not retried and fails as itself, not as 503", async () => {
    script = [{ error: "AccessDenied", status: 403 }];
    const sqs = queue();
    await assert.rejects(
      sqs.send("job"),
      (error: unknown) =>
        !(error instanceof QueueUnavailableError) && (error as Error).name === "AccessDenied",
    );
    assert.equal(requests.length, 1);
    await sqs.close();
  });

  it("GIVEN throttling twice WHEN sending THEN the third attempt delivers", async () => {
    script = [
      { error: "RequestThrottled", status: 400 },
      { error: "RequestThrottled", status: 400 },
    ];
    const sqs = queue();
    await sqs.send("job");
    assert.equal(requests.length, 3);
    await sqs.close();
  });

  it("GIVEN throttling that lasts WHEN sending THEN it gives up after the bound with QueueUnavailableError", async () => {
    script = Array.from({ length: 10 }, () => ({ error: "RequestThrottled", status: 400 }));
    const sqs = queue();
    await assert.rejects(
      sqs.send("job"),
      (error: unknown) => error instanceof QueueUnavailableError && error.attempts === ATTEMPTS,
    );
    assert.equal(requests.length, ATTEMPTS);
    await sqs.close();
  });

  it("GIVEN a server error WHEN sending THEN it is retried", async () => {
    script = [{ error: "InternalError", status: 500 }];
    const sqs = queue();
    await sqs.send("job");
    assert.equal(requests.length, 2);
    await sqs.close();
  });
});

describe("SqsJobQueue.deleteBatch", () => {
  const received = (handles: string[]): QueueMessage[] =>
    handles.map((receiptHandle) => ({
      messageId: receiptHandle,
      body: "job",
      receiptHandle,
      receiveCount: 1,
    }));

  it("GIVEN an entry SQS failed on its side THEN that entry alone is tried once more, and deleted", async () => {
    script = [{ failed: [{ Id: "1", SenderFault: false, Code: "InternalError" }] }];
    const sqs = queue();
    assert.deepEqual(await sqs.deleteBatch(received(["a", "b", "c"])), []);
    assert.deepEqual(
      requests.map(({ Entries }) => Entries?.map(({ ReceiptHandle }) => ReceiptHandle)),
      [["a", "b", "c"], ["b"]],
    );
    await sqs.close();
  });

  it("GIVEN an entry failed as the sender's fault, or twice on SQS's side, THEN it is answered as undeleted with the reason, not tried again", async () => {
    script = [
      {
        failed: [
          { Id: "0", SenderFault: true, Code: "ReceiptHandleIsInvalid" },
          { Id: "1", SenderFault: false, Code: "InternalError" },
        ],
      },
      { failed: [{ Id: "0", SenderFault: false, Code: "InternalError" }] },
    ];
    const sqs = queue();
    const undeleted = await sqs.deleteBatch(received(["a", "b"]));
    assert.deepEqual(
      undeleted.map(({ message, reason }) => [message.receiptHandle, reason.split(":")[0]]),
      [
        ["a", "ReceiptHandleIsInvalid"],
        ["b", "InternalError"],
      ],
    );
    assert.equal(requests.length, 2);
    await sqs.close();
  });

  it("GIVEN 23 messages THEN three calls of at most ten, each with ids unique within it", async () => {
    const sqs = queue();
    const handles = Array.from({ length: 23 }, (_, index) => `h${index}`);
    assert.deepEqual(await sqs.deleteBatch(received(handles)), []);
    assert.deepEqual(
      requests.map(({ Entries }) => Entries!.length),
      [10, 10, 3],
    );
    for (const { Entries } of requests) {
      assert.equal(new Set(Entries!.map(({ Id }) => Id)).size, Entries!.length);
    }
    await sqs.close();
  });
});
