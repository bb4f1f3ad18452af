import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import {
  TLS_POLICY,
  validateWebServiceArgs,
  WebService,
  type WebServiceArgs,
} from "../../components/webService";
import { WEB_SHUTDOWN } from "../../contract";
import { render, resolve } from "../../harness/component";
import type { RecordedResource } from "../../harness/mocks";
import { devTasks, PASSWORD_SECRET } from "./support/fargate";
import { itThrowsBeforeAnyChild, itValidatesEachCase } from "./support/validation";
import { assertInputs, T } from "./support/types";

const CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/abc";
const TOKEN_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cache-token-GhIjKl";
const KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1111";

/** The dev web tier without a domain; each test states what it changes. */
function webArgs(overrides: Partial<WebServiceArgs> = {}): WebServiceArgs {
  return {
    ...devTasks(),
    publicSubnetIds: ["subnet-public-a", "subnet-public-b"],
    command: ["web"],
    minTasks: 1,
    maxTasks: 4,
    environment: { AWS_REGION: "us-east-1", REDIS_URL: "rediss://cache:6379" },
    secrets: {
      DATABASE_PASSWORD: { arn: PASSWORD_SECRET, jsonKey: "password" },
      REDIS_AUTH_TOKEN: { arn: TOKEN_SECRET },
    },
    secretKmsKeyArns: [KMS_KEY],
    containerPort: 3000,
    healthCheckPath: "/readyz",
    loadBalancingAlgorithm: "round_robin",
    enableDeletionProtection: false,
    cpuTargetPercent: 60,
    requestsPerTargetPerMinute: 3000,
    ...overrides,
  };
}

interface Container {
  name: string;
  command: string[];
  environment: Array<{ name: string; value: string }>;
  secrets: Array<{ name: string; valueFrom: string }>;
  portMappings: Array<{ containerPort: number }>;
  readonlyRootFilesystem: boolean;
  mountPoints: Array<{ containerPath: string }>;
  stopTimeout: number;
  logConfiguration: { logDriver: string; options: Record<string, string> };
}

/** What a security-group rule opens: its port range and its source or destination. */
const opening = (rule: RecordedResource) => [
  rule.inputs.fromPort,
  rule.inputs.toPort,
  rule.inputs.referencedSecurityGroupId,
  rule.inputs.cidrIpv4,
];
const containerOf = (task: RecordedResource) =>
  (JSON.parse(String(task.inputs.containerDefinitions)) as Container[])[0]!;
const policyOf = (resource: RecordedResource) =>
  JSON.parse(String(resource.inputs.policy)) as {
    Statement: Array<{
      Action: string | string[];
      Resource: string | string[];
      Condition?: unknown;
    }>;
  };

/** Builds and starts a WebService, recording the resource options each child was registered with. */
async function renderWeb(overrides: Partial<WebServiceArgs> = {}) {
  const options = new Map<string, pulumi.ResourceOptions>();
  const rendered = await render(({ provider }) => {
    const record: pulumi.ResourceTransformation = ({ type, name, opts }) => {
      options.set(`${type}::${name}`, opts);
      return undefined;
    };
    const web = new WebService("web", webArgs(overrides), { provider, transformations: [record] });
    web.start([]);
    return web;
  });
  return {
    ...rendered,
    optionsOf: (type: string, name: string) => options.get(`${type}::${name}`)!,
  };
}

describe("WebService: argument validation", () => {
  const cases: Array<[string, Partial<WebServiceArgs>, RegExp | null]> = [
    ["the dev shape", {}, null],
    [
      "the prod shape",
      {
        cpu: 1024,
        memory: 2048,
        minTasks: 3,
        maxTasks: 30,
        loadBalancingAlgorithm: "least_outstanding_requests",
      },
      null,
    ],
    [
      "minTasks above maxTasks",
      { minTasks: 5, maxTasks: 4 },
      /minTasks: 5 is greater than maxTasks \(4\)/,
    ],
    ["no web task at all", { minTasks: 0 }, /minTasks: 0 must be at least 1/],
    ["a CPU size Fargate lacks", { cpu: 300 }, /cpu: 300 is not a Fargate CPU size/],
    [
      "memory that does not fit the CPU",
      { cpu: 1024, memory: 512 },
      /memory: 512 MiB does not fit cpu 1024 on Fargate; use one of 2048/,
    ],
    [
      "a health path without a leading /",
      { healthCheckPath: "readyz" },
      /healthCheckPath: "readyz" must be a path starting with "\/"/,
    ],
    [
      "a certificate without the name it covers",
      { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/1" },
      /domainName: missing; with certificateArn give the name the certificate covers/,
    ],
    [
      "a domain without its certificate",
      { domainName: "app.example.com" },
      /domainName: given without certificateArn/,
    ],
    [
      "a privileged container port",
      { containerPort: 80 },
      /containerPort: 80 must be a whole number from 1024/,
    ],
    [
      "a single public subnet",
      { publicSubnetIds: ["subnet-public-a"] },
      /publicSubnetIds: 1 given; .* at least two availability zones/,
    ],
    ["no private subnets", { subnetIds: [] }, /subnetIds: empty/],
    [
      "an unknown algorithm",
      { loadBalancingAlgorithm: "random" as never },
      /loadBalancingAlgorithm: "random" must be one of round_robin, least_outstanding_requests/,
    ],
    ["a CPU target of 0", { cpuTargetPercent: 0 }, /cpuTargetPercent: 0/],
    ["no requests per target", { requestsPerTargetPerMinute: 0 }, /requestsPerTargetPerMinute: 0/],
    [
      "a retention CloudWatch Logs lacks",
      { logRetentionDays: 10 },
      /logRetentionDays: 10 is not a period CloudWatch Logs keeps/,
    ],
    ["no command", { command: [] }, /command: empty/],
    [
      "a variable name with a dash",
      { environment: { "BAD-NAME": "x" } },
      /"BAD-NAME" is not a variable name/,
    ],
    [
      "a secret also set as plain env",
      { environment: { REDIS_AUTH_TOKEN: "plain" } },
      /secrets.REDIS_AUTH_TOKEN: also set in environment/,
    ],
    [
      "an empty JSON key",
      { secrets: { DATABASE_PASSWORD: { arn: PASSWORD_SECRET, jsonKey: "" } } },
      /secrets.DATABASE_PASSWORD.jsonKey: empty/,
    ],
  ];
  itValidatesEachCase((overrides) => validateWebServiceArgs(webArgs(overrides)), cases);

  itThrowsBeforeAnyChild(
    ({ provider }) =>
      new WebService("bad", webArgs({ minTasks: 5, maxTasks: 2, healthCheckPath: "x" }), {
        provider,
      }),
    /WebService "bad": invalid arguments:\n {2}- minTasks: 5 is greater than maxTasks[\s\S]*healthCheckPath/,
  );
});

describe("WebService: network exposure", () => {
  it("GIVEN no certificate THEN the load balancer admits only HTTP on 80 from anywhere and forwards it", async () => {
    const { value: web, ofType } = await renderWeb();
    const albGroup = await resolve(web.albSecurityGroupId);
    const albIngress = ofType(T.ingress).filter((rule) => rule.inputs.securityGroupId === albGroup);
    assert.deepEqual(
      albIngress.map((rule) => [
        rule.inputs.ipProtocol,
        rule.inputs.fromPort,
        rule.inputs.toPort,
        rule.inputs.cidrIpv4,
      ]),
      [["tcp", 80, 80, "0.0.0.0/0"]],
    );
    const listeners = ofType(T.listener);
    assert.equal(listeners.length, 1);
    assert.equal(listeners[0]!.inputs.port, 80);
    assert.deepEqual(
      (listeners[0]!.inputs.defaultActions as Array<{ type: string }>).map((action) => action.type),
      ["forward"],
    );
    assert.match(
      await resolve(web.url),
      /^http:\/\/web-alb[\w-]*\.us-east-1\.elb\.amazonaws\.com$/,
    );
  });

  it("GIVEN a certificate THEN HTTPS on 443 uses it with the TLS 1.2+ policy and 80 redirects permanently to HTTPS", async () => {
    const {
      value: web,
      ofType,
      named,
    } = await renderWeb({ certificateArn: CERTIFICATE_ARN, domainName: "app.example.com" });
    const albGroup = await resolve(web.albSecurityGroupId);
    const ports = ofType(T.ingress)
      .filter((rule) => rule.inputs.securityGroupId === albGroup)
      .map((rule) => [rule.inputs.fromPort, rule.inputs.cidrIpv4]);
    assert.deepEqual(ports, [
      [80, "0.0.0.0/0"],
      [443, "0.0.0.0/0"],
    ]);
    const https = named("web-https", T.listener);
    assertInputs(https, {
      port: 443,
      protocol: "HTTPS",
      sslPolicy: TLS_POLICY,
      certificateArn: CERTIFICATE_ARN,
    });
    assert.equal(TLS_POLICY, "ELBSecurityPolicy-TLS13-1-2-2021-06");
    const targetGroupArn = String(ofType(T.targetGroup)[0]!.state.arn);
    assert.deepEqual(https.inputs.defaultActions, [{ type: "forward", targetGroupArn }]);
    const http = named("web-http", T.listener);
    assert.deepEqual(http.inputs.defaultActions, [
      { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
    ]);
    assert.equal(await resolve(web.url), "https://app.example.com");
  });

  it("GIVEN the load balancer THEN it may reach only the tasks' group on the container port, and the tasks admit only it", async () => {
    const { value: web, ofType } = await renderWeb();
    const [albGroup, taskGroup] = await Promise.all([
      resolve(web.albSecurityGroupId),
      resolve(web.securityGroupId),
    ]);
    const albEgress = ofType(T.egress).filter((rule) => rule.inputs.securityGroupId === albGroup);
    assert.deepEqual(albEgress.map(opening), [[3000, 3000, taskGroup, undefined]]);
    const taskIngress = ofType(T.ingress).filter(
      (rule) => rule.inputs.securityGroupId === taskGroup,
    );
    assert.deepEqual(taskIngress.map(opening), [[3000, 3000, albGroup, undefined]]);
    // Apart from the load balancer, only the ALB's own HTTP(S) rules open anything to the world.
    for (const rule of ofType(T.ingress).filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0")) {
      assert.equal(rule.inputs.securityGroupId, albGroup);
      assert.ok([80, 443].includes(Number(rule.inputs.fromPort)));
    }
  });

  it("GIVEN the service THEN its tasks run in the private subnets without a public IP", async () => {
    const { value: web, ofType } = await renderWeb();
    const service = ofType(T.service)[0]!;
    assert.deepEqual(service.inputs.networkConfiguration, {
      subnets: ["subnet-private-a", "subnet-private-b"],
      securityGroups: [await resolve(web.securityGroupId)],
      assignPublicIp: false,
    });
    assert.equal(service.inputs.enableExecuteCommand, false);
  });

  it("GIVEN the load balancer THEN it is internet-facing in the public subnets, drops invalid headers and follows the deletion protection flag", async () => {
    for (const protect of [false, true]) {
      const { ofType } = await renderWeb({ enableDeletionProtection: protect });
      const alb = ofType(T.alb)[0]!;
      assertInputs(alb, {
        internal: false,
        subnets: ["subnet-public-a", "subnet-public-b"],
        dropInvalidHeaderFields: true,
        enableDeletionProtection: protect,
      });
    }
  });
});

describe("WebService: target group", () => {
  const algorithms = ["round_robin", "least_outstanding_requests"] as const;
  for (const algorithm of algorithms) {
    it(`GIVEN ${algorithm} THEN the target group balances with it over task IPs, checks the health path and never pins a client`, async () => {
      const { ofType } = await renderWeb({
        loadBalancingAlgorithm: algorithm,
        healthCheckPath: "/healthz",
      });
      const group = ofType(T.targetGroup)[0]!;
      assertInputs(group, {
        targetType: "ip",
        port: 3000,
        protocol: "HTTP",
        loadBalancingAlgorithmType: algorithm,
      });
      const health = group.inputs.healthCheck as Record<string, unknown>;
      assert.deepEqual(
        [health.path, health.matcher, health.port],
        ["/healthz", "200", "traffic-port"],
      );
      assert.equal((group.inputs.stickiness as { enabled: boolean }).enabled, false);
      assert.equal(Number(group.inputs.deregistrationDelay), WEB_SHUTDOWN.drainSeconds);
    });
  }
});

describe("WebService: the ECS service", () => {
  it("GIVEN a deploy THEN a circuit breaker rolls back, capacity never drops and only the first deploy sets the task count", async () => {
    const { ofType, optionsOf } = await renderWeb({ minTasks: 2, maxTasks: 6 });
    const service = ofType(T.service)[0]!;
    assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
    assert.deepEqual(
      [service.inputs.deploymentMinimumHealthyPercent, service.inputs.deploymentMaximumPercent],
      [100, 200],
    );
    assert.equal(service.inputs.desiredCount, 2);
    assert.deepEqual(optionsOf(T.service, "web-service").ignoreChanges, ["desiredCount"]);
    assert.equal(service.inputs.propagateTags, "SERVICE");
  });

  it("GIVEN the listeners THEN the service waits for them and registers its container port in the target group", async () => {
    const { ofType, optionsOf } = await renderWeb({
      certificateArn: CERTIFICATE_ARN,
      domainName: "app.example.com",
    });
    const service = ofType(T.service)[0]!;
    const targetGroupArn = ofType(T.targetGroup)[0]!.state.arn;
    assert.deepEqual(service.inputs.loadBalancers, [
      { targetGroupArn, containerName: "app", containerPort: 3000 },
    ]);
    const dependsOn = optionsOf(T.service, "web-service").dependsOn as pulumi.Resource[];
    const waitedFor = await Promise.all(dependsOn.map((resource) => resolve(resource.urn)));
    assert.deepEqual(waitedFor.map((urn) => urn.split("::").pop()).sort(), [
      "web-http",
      "web-https",
    ]);
  });

  it("GIVEN useSpot THEN the service runs on FARGATE_SPOT; by default on FARGATE", async () => {
    for (const [useSpot, provider] of [
      [true, "FARGATE_SPOT"],
      [undefined, "FARGATE"],
    ] as const) {
      const { ofType } = await renderWeb(useSpot === undefined ? {} : { useSpot });
      assert.deepEqual(ofType(T.service)[0]!.inputs.capacityProviderStrategies, [
        { capacityProvider: provider, weight: 1 },
      ]);
    }
  });
});

describe("WebService: task definition", () => {
  it("GIVEN env vars and secrets THEN the container gets the env (and PORT) in plain text and the secrets only as Secrets Manager references", async () => {
    const { ofType } = await renderWeb();
    const task = ofType(T.taskDefinition)[0]!;
    const container = containerOf(task);
    assert.deepEqual(container.command, ["web"]);
    assert.deepEqual(container.environment, [
      { name: "AWS_REGION", value: "us-east-1" },
      { name: "PORT", value: "3000" },
      { name: "REDIS_URL", value: "rediss://cache:6379" },
      { name: "SHUTDOWN_DEADLINE_SECONDS", value: String(WEB_SHUTDOWN.appSeconds) },
    ]);
    assert.deepEqual(container.secrets, [
      { name: "DATABASE_PASSWORD", valueFrom: `${PASSWORD_SECRET}:password::` },
      { name: "REDIS_AUTH_TOKEN", valueFrom: TOKEN_SECRET },
    ]);
    assert.deepEqual(
      container.portMappings.map((mapping) => mapping.containerPort),
      [3000],
    );
  });

  it("GIVEN the container THEN its root filesystem is read-only with a scratch /tmp, it logs through awslogs to the log group and has time to shut down", async () => {
    const { value: web, ofType } = await renderWeb();
    const task = ofType(T.taskDefinition)[0]!;
    const container = containerOf(task);
    assert.equal(container.readonlyRootFilesystem, true);
    assert.deepEqual(
      container.mountPoints.map((mount) => mount.containerPath),
      ["/tmp"],
    );
    assert.equal(container.logConfiguration.logDriver, "awslogs");
    assert.equal(
      container.logConfiguration.options["awslogs-group"],
      await resolve(web.logGroupName),
    );
    assert.equal(container.logConfiguration.options["awslogs-region"], "us-east-1");
    // The contract's deadlines: the app (SHUTDOWN_DEADLINE_SECONDS) exits before ECS kills it.
    assert.equal(container.stopTimeout, WEB_SHUTDOWN.stopTimeoutSeconds);
    assertInputs(task, {
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
    });
    assert.equal(ofType(T.logGroup)[0]!.inputs.retentionInDays, 7);
  });

  it("GIVEN secrets and their keys THEN the execution role reads exactly those secrets and decrypts with exactly those keys, through Secrets Manager", async () => {
    const { ofType, named } = await renderWeb();
    const statements = policyOf(named("web-execution-secrets", T.rolePolicy)).Statement;
    assert.deepEqual(
      statements.map((s) => [s.Action, s.Resource]),
      [
        ["secretsmanager:GetSecretValue", [PASSWORD_SECRET, TOKEN_SECRET]],
        ["kms:Decrypt", [KMS_KEY]],
      ],
    );
    assert.deepEqual(statements[1]!.Condition, {
      StringLike: { "kms:ViaService": "secretsmanager.*.amazonaws.com" },
    });
    const managed = ofType(T.attachment).map((attachment) => attachment.inputs.policyArn);
    assert.deepEqual(managed, [
      "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    ]);
  });

  it("GIVEN the execution role's grants THEN the task definition waits for them: no task starts before it may read its secrets under their current keys", async () => {
    const { ofType, named } = await renderWeb();
    const taskDefinition = ofType(T.taskDefinition)[0]!;
    for (const grant of [named("web-execution-secrets", T.rolePolicy), ofType(T.attachment)[0]!]) {
      assert.ok(
        taskDefinition.dependsOn.includes(grant.urn),
        `the task definition does not wait for ${grant.name}`,
      );
    }
  });

  it("GIVEN no secrets THEN the execution role gets no secrets policy", async () => {
    const { ofType } = await renderWeb({ secrets: {}, secretKmsKeyArns: [] });
    assert.deepEqual(
      ofType(T.rolePolicy).map((policy) => policy.name),
      [],
    );
  });

  it("GIVEN the task role THEN it starts without permissions and only ECS tasks of this account and region may assume it", async () => {
    const { value: web, ofType, named } = await renderWeb();
    const taskRoleName = await resolve(web.taskRoleName);
    assert.deepEqual(
      ofType(T.rolePolicy).filter((policy) => policy.inputs.role === taskRoleName),
      [],
    );
    assert.deepEqual(
      ofType(T.attachment).filter((attachment) => attachment.inputs.role === taskRoleName),
      [],
    );
    const trust = JSON.parse(String(named("web-task-role", T.role).inputs.assumeRolePolicy)) as {
      Statement: Array<{ Principal: unknown; Condition: unknown }>;
    };
    assert.deepEqual(trust.Statement[0]!.Principal, { Service: "ecs-tasks.amazonaws.com" });
    assert.deepEqual(trust.Statement[0]!.Condition, {
      ArnLike: { "aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*" },
      StringEquals: { "aws:SourceAccount": "123456789012" },
    });
  });
});

describe("WebService: autoscaling", () => {
  it("GIVEN min and max THEN the scalable target spans them on the service's desired count", async () => {
    const { value: web, ofType } = await renderWeb({ minTasks: 2, maxTasks: 9 });
    const target = ofType(T.scalableTarget)[0]!;
    assertInputs(target, {
      minCapacity: 2,
      maxCapacity: 9,
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: `service/app/${await resolve(web.serviceName)}`,
    });
  });

  it("GIVEN the CPU and request targets THEN one target-tracking policy follows each, requests per target labelled by the ALB and target group", async () => {
    const { value: web, named } = await renderWeb({
      cpuTargetPercent: 55,
      requestsPerTargetPerMinute: 4200,
    });
    type Tracking = {
      targetValue: number;
      predefinedMetricSpecification: { predefinedMetricType: string; resourceLabel?: string };
    };
    const cpu = named("web-cpu-scaling", T.scalingPolicy);
    const requests = named("web-requests-scaling", T.scalingPolicy);
    for (const policy of [cpu, requests])
      assert.equal(policy.inputs.policyType, "TargetTrackingScaling");
    const cpuConfig = cpu.inputs.targetTrackingScalingPolicyConfiguration as Tracking;
    assert.deepEqual(
      [cpuConfig.targetValue, cpuConfig.predefinedMetricSpecification.predefinedMetricType],
      [55, "ECSServiceAverageCPUUtilization"],
    );
    const requestConfig = requests.inputs.targetTrackingScalingPolicyConfiguration as Tracking;
    const label = `${await resolve(web.albArnSuffix)}/${await resolve(web.targetGroupArnSuffix)}`;
    assert.deepEqual(
      [requestConfig.targetValue, requestConfig.predefinedMetricSpecification],
      [4200, { predefinedMetricType: "ALBRequestCountPerTarget", resourceLabel: label }],
    );
    assert.match(
      label,
      /^app\/web-alb[\w-]*\/[0-9a-f]{16}\/targetgroup\/web-tg[\w-]*\/[0-9a-f]{16}$/,
    );
  });
});

describe("WebService: tags", () => {
  it("GIVEN any taggable child THEN it carries the web tier", async () => {
    const { resources } = await renderWeb({
      certificateArn: CERTIFICATE_ARN,
      domainName: "app.example.com",
    });
    const untagged = resources.filter(
      (r) =>
        r.type.startsWith("aws:") &&
        r.inputs.tags !== undefined &&
        (r.inputs.tags as Record<string, string>).tier !== "web",
    );
    assert.deepEqual(
      untagged.map((r) => r.name),
      [],
    );
  });
});
