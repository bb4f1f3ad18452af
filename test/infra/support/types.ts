import assert from "node:assert/strict";
/** The Pulumi type tokens of the resources the component specs look up, by a short name. */
export const T = {
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  alb: "aws:lb/loadBalancer:LoadBalancer",
  association: "aws:wafv2/webAclAssociation:WebAclAssociation",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  key: "aws:kms/key:Key",
  listener: "aws:lb/listener:Listener",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  logPolicy: "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
  logging: "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
  queue: "aws:sqs/queue:Queue",
  redriveAllow: "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
  replica: "aws:dynamodb/tableReplica:TableReplica",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  scalableTarget: "aws:appautoscaling/target:Target",
  scalingPolicy: "aws:appautoscaling/policy:Policy",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  service: "aws:ecs/service:Service",
  table: "aws:dynamodb/table:Table",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  webAcl: "aws:wafv2/webAcl:WebAcl",
} as const;

/**
 * Asserts the inputs `expected` names, and only those, on one recorded resource: a spec states
 * each input it cares about next to its value.
 */
export function assertInputs(
  resource: { name: string; inputs: Record<string, unknown> },
  expected: Record<string, unknown>,
): void {
  const actual = Object.fromEntries(
    Object.keys(expected).map((key) => [key, resource.inputs[key]]),
  );
  assert.deepEqual(actual, expected, `the inputs of ${resource.name}`);
}
