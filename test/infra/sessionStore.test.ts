import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  SessionStore,
  type SessionStoreArgs,
  validateSessionStoreArgs,
} from "../../components/sessionStore";
import { SESSIONS_TABLE_ACTIONS, SESSIONS_TABLE_SCHEMA } from "../../contract";
import { render, type RenderContext, resolve } from "../../harness/component";
import type { RecordedResource } from "../../harness/mocks";
import { T } from "./support/types";
import { assertProblemMatch } from "./support/validation";

const HOME = "us-east-1";
const OTHER = "eu-west-1";
const WEB_ROLE = "web-task-role";

type Overrides = Partial<Omit<SessionStoreArgs, "regions">>;

function storeArgs(context: RenderContext, overrides: Overrides = {}): SessionStoreArgs {
  return {
    regions: [
      { region: HOME, provider: context.providerFor(HOME) },
      { region: OTHER, provider: context.providerFor(OTHER) },
    ],
    pointInTimeRecovery: true,
    deletionProtection: true,
    ...overrides,
  };
}

async function renderStore(overrides: Overrides = {}, grantIn?: string) {
  return render((context) => {
    const store = new SessionStore("sessions", storeArgs(context, overrides));
    if (grantIn !== undefined) store.grantReadWrite("web", WEB_ROLE, grantIn);
    return store;
  });
}

interface Statement {
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}
const statementsOf = (policy: RecordedResource) =>
  (JSON.parse(String(policy.inputs.policy)) as { Statement: Statement[] }).Statement;

describe("SessionStore: argument validation", () => {
  const cases: Array<[string, string[], RegExp | undefined]> = [
    ["two regions", [HOME, OTHER], undefined],
    ["one region", [HOME], undefined],
    ["no region", [], /regions: is empty/],
    ["a region twice", [HOME, HOME], /us-east-1 appears more than once/],
  ];
  for (const [label, regions, problem] of cases) {
    it(`GIVEN ${label} THEN ${problem ? "it is refused, naming the argument" : "it is valid"}`, async () => {
      await render((context) => {
        const problems = validateSessionStoreArgs({
          regions: regions.map((region) => ({ region, provider: context.providerFor(region) })),
          pointInTimeRecovery: false,
          deletionProtection: false,
        });
        assertProblemMatch(problems, problem);
      });
    });
  }
});

describe("SessionStore: GIVEN two regions", () => {
  it("THEN the home table has the contract's keys, TTL, on-demand billing and the stream global tables need", async () => {
    const { named } = await renderStore();
    const table = named("sessions-table", T.table);
    assert.equal(table.region, HOME);
    assert.equal(table.inputs.billingMode, "PAY_PER_REQUEST");
    assert.equal(table.inputs.hashKey, SESSIONS_TABLE_SCHEMA.partitionKey);
    assert.equal(table.inputs.rangeKey, SESSIONS_TABLE_SCHEMA.sortKey);
    assert.deepEqual(table.inputs.attributes, [
      { name: SESSIONS_TABLE_SCHEMA.partitionKey, type: "S" },
      { name: SESSIONS_TABLE_SCHEMA.sortKey, type: "S" },
    ]);
    assert.deepEqual(table.inputs.ttl, {
      attributeName: SESSIONS_TABLE_SCHEMA.ttlAttribute,
      enabled: true,
    });
    assert.equal(table.inputs.streamEnabled, true);
    assert.equal(table.inputs.streamViewType, "NEW_AND_OLD_IMAGES");
  });

  it("THEN the other region has a TableReplica of it, with that region's provider", async () => {
    const { named, ofType } = await renderStore();
    assert.equal(ofType(T.replica).length, 1);
    const replica = named(`sessions-replica-${OTHER}`, T.replica);
    assert.equal(replica.region, OTHER);
    assert.equal(replica.inputs.globalTableArn, named("sessions-table", T.table).state.arn);
  });

  it("THEN each copy is encrypted with a customer-managed, rotating key in its own region", async () => {
    const { named } = await renderStore();
    const table = named("sessions-table", T.table);
    const replica = named(`sessions-replica-${OTHER}`, T.replica);
    const homeKey = named(`sessions-${HOME}-key`, T.key);
    const otherKey = named(`sessions-${OTHER}-key`, T.key);
    assert.deepEqual(table.inputs.serverSideEncryption, {
      enabled: true,
      kmsKeyArn: homeKey.state.arn,
    });
    assert.equal(replica.inputs.kmsKeyArn, otherKey.state.arn);
    assert.equal(homeKey.region, HOME);
    assert.equal(otherKey.region, OTHER);
    for (const key of [homeKey, otherKey]) assert.equal(key.inputs.enableKeyRotation, true);
  });

  for (const enabled of [true, false]) {
    it(`WHEN point-in-time recovery and deletion protection are ${enabled} THEN every copy has them so`, async () => {
      const { named } = await renderStore({
        pointInTimeRecovery: enabled,
        deletionProtection: enabled,
      });
      const table = named("sessions-table", T.table);
      const replica = named(`sessions-replica-${OTHER}`, T.replica);
      assert.deepEqual(table.inputs.pointInTimeRecovery, { enabled });
      assert.equal(table.inputs.deletionProtectionEnabled, enabled);
      assert.equal(replica.inputs.pointInTimeRecovery, enabled);
      assert.equal(replica.inputs.deletionProtectionEnabled, enabled);
    });
  }

  for (const region of [HOME, OTHER]) {
    it(`WHEN a role is granted in ${region} THEN it gets the contract's actions on that region's copy only, and its key only through DynamoDB there`, async () => {
      const { named, value } = await renderStore({}, region);
      const policy = named("sessions-web", T.rolePolicy);
      assert.equal(policy.inputs.role, WEB_ROLE);
      const [table, key] = statementsOf(policy);
      assert.deepEqual(table!.Action, [...SESSIONS_TABLE_ACTIONS]);
      assert.equal(table!.Resource, await resolve(value.arnIn(region)));
      assert.match(String(table!.Resource), new RegExp(`^arn:aws:dynamodb:${region}:`));
      assert.equal(key!.Resource, await resolve(value.kmsKeyArnIn(region)));
      assert.deepEqual(key!.Condition, {
        StringEquals: { "kms:ViaService": `dynamodb.${region}.amazonaws.com` },
      });
    });
  }

  it("WHEN a role is granted in a region without a copy THEN the error names the region and the fix", async () => {
    await assert.rejects(
      renderStore({}, "ap-south-1"),
      /no replica in ap-south-1; it has us-east-1, eu-west-1\. Fix: add ap-south-1 to regions/,
    );
  });
});
