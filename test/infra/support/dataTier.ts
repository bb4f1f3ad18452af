/**
 * What both data tiers' network specs share (Database and Cache, through components/dataTier.ts
 * createIngressRules): a tier opens nothing until `allowFrom`, then exactly its own port.
 */
import assert from "node:assert/strict";
import type { Rendered } from "../../../harness/component";
import type { RecordedResource } from "../../../harness/mocks";
import { T } from "./types";

/** Asserts the tier's security group has no inline rules and no ingress rule exists. */
export function assertNoAccess(ofType: Rendered<unknown>["ofType"]): void {
  const group = ofType(T.securityGroup)[0]!;
  assert.equal(group.inputs.ingress, undefined);
  assert.equal(group.inputs.egress, undefined);
  assert.deepEqual(ofType(T.ingress), []);
}

/**
 * Asserts every ingress rule opens TCP `port` only, on the tier's group `groupId`, and never to
 * 0.0.0.0/0; returns what each admits (a security group id or a CIDR), sorted.
 */
export function admittedSources(
  rules: RecordedResource[],
  groupId: string,
  port: number,
): unknown[] {
  for (const rule of rules) {
    assert.equal(rule.inputs.securityGroupId, groupId);
    assert.deepEqual(
      [rule.inputs.ipProtocol, rule.inputs.fromPort, rule.inputs.toPort],
      ["tcp", port, port],
    );
    assert.notEqual(rule.inputs.cidrIpv4, "0.0.0.0/0");
  }
  return rules.map((r) => r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4).sort();
}
