// Unit tests of the sharding data: the id layout, the shard map's text form and its validation.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ID_EPOCH_MS, idParts, LOGICAL_SHARDS, logicalShardOf } from "../../app/src/sharding/ids";
import {
  evenShardMap,
  formatShardList,
  formatShardMap,
  parseShardList,
  parseShardMap,
  shardMapProblems,
} from "../../app/src/sharding/shardMap";

describe("ids", () => {
  it("GIVEN an id built from its parts THEN logicalShardOf and idParts read them back, past 2^53", () => {
    const ms = Date.UTC(2030, 5, 1) - ID_EPOCH_MS;
    const id = (BigInt(ms) << 23n) | (8191n << 10n) | 1023n;
    assert.ok(id > BigInt(Number.MAX_SAFE_INTEGER));
    assert.equal(logicalShardOf(id.toString()), 8191);
    assert.deepEqual(idParts(id), {
      createdAtMs: Date.UTC(2030, 5, 1),
      logicalShard: 8191,
      sequence: 1023,
    });
  });

  it("GIVEN ids from before sharding (1, 2, 3...) THEN they read as low logical shards", () => {
    assert.deepEqual(
      ["1", "1023", "1024", "5000"].map((id) => logicalShardOf(id)),
      [0, 0, 1, 4],
    );
  });

  it("GIVEN ids across the whole 64-bit range THEN a decimal id's shard is the one its bits hold", () => {
    const fromBits = (id: bigint) => Number((id >> 10n) & 8191n);
    const ids = [
      0n,
      1n,
      2n ** 23n - 1n,
      2n ** 23n,
      2n ** 53n + 12_345n,
      2n ** 63n - 1n,
      2n ** 64n - 1n,
    ];
    for (let shard = 0n; shard < 8192n; shard += 97n) {
      ids.push((123_456_789_012n << 23n) | (shard << 10n) | (shard % 1024n));
    }
    for (const id of ids) assert.equal(logicalShardOf(id.toString()), fromBits(id), String(id));
  });

  it("GIVEN a string that is no decimal id THEN logicalShardOf refuses it", () => {
    for (const bad of ["12a", "1.5", "user-7"]) {
      assert.throws(() => logicalShardOf(bad), SyntaxError, JSON.stringify(bad));
    }
  });
});

describe("shard map", () => {
  it("GIVEN an even split THEN each physical shard gets a contiguous third and the text form round-trips", () => {
    const map = evenShardMap(3);
    assert.equal(formatShardMap(map), "0-2730:0,2731-5461:1,5462-8191:2");
    assert.deepEqual(parseShardMap(formatShardMap(map), 3), map);
  });

  const badMaps: [string, number, RegExp][] = [
    ["0-8190:0", 1, /logical shards 8191 are on no physical shard/],
    ["0-8191:3", 3, /physical shard\(s\) 3 do not exist \(there are 3: 0-2\)/],
    ["0-10:0,10-8191:1", 2, /logical shard 10 is listed twice/],
    ["0-8191", 1, /"0-8191" is not FROM-TO:PHYSICAL/],
    ["10-5:0", 1, /FROM <= TO/],
  ];
  for (const [text, physical, message] of badMaps) {
    it(`GIVEN "${text}" over ${physical} physical shard(s) THEN it is refused: ${message.source}`, () => {
      assert.throws(() => parseShardMap(text, physical), message);
    });
  }

  it("GIVEN a map with every problem THEN shardMapProblems lists them all", () => {
    const map: (number | undefined)[] = Array.from({ length: LOGICAL_SHARDS }, () => 0);
    map[5] = undefined;
    map[6] = 9;
    assert.equal(shardMapProblems(map, 2).length, 2);
  });

  it("GIVEN lists of logical shards THEN they parse and print as ranges", () => {
    assert.deepEqual(parseShardList("7,100-102,7"), [7, 100, 101, 102]);
    assert.equal(formatShardList([1, 2, 3, 7, 9, 10]), "1-3,7,9-10");
    assert.throws(() => parseShardList("8192"), /"8192" is not a logical shard/);
    assert.throws(() => parseShardList("x"), /"x" is not a logical shard/);
  });
});
