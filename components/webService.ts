import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { type ComponentTaskEnvironment, WEB_SHUTDOWN } from "../contract";
import { wholeNumberProblems } from "./validation";
import {
  CONTAINER_NAME,
  FargateService,
  type FargateServiceArgs,
  type FargateServiceTransforms,
  type RunningTasks,
  validateFargateServiceArgs,
  type WorkSource,
} from "./fargateService";
import type { Tags } from "./tags";
import { type Transform, transform } from "./transform";

/** TLS 1.3, and TLS 1.2 with forward-secret ciphers only. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
export const LOAD_BALANCING_ALGORITHMS = ["round_robin", "least_outstanding_requests"] as const;
export type LoadBalancingAlgorithm = (typeof LOAD_BALANCING_ALGORITHMS)[number];

const HTTP_PORT = 80;
const HTTPS_PORT = 443;
const ANYWHERE = "0.0.0.0/0";
/** Unprivileged ports only: the image runs as a non-root user. */
const MIN_CONTAINER_PORT = 1024;
const MAX_PORT = 65_535;
/** The ALB's longest health check path. */
const MAX_HEALTH_CHECK_PATH_LENGTH = 1024;
/** A task joins after two good checks 15 s apart and leaves after three bad ones (45 s). */
const HEALTH_CHECK = {
  intervalSeconds: 15,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
};
/** How long ECS ignores failing health checks of a new task while the app starts. */
const HEALTH_CHECK_GRACE_PERIOD_SECONDS = 60;
/** How long the load balancer keeps an idle connection open. */
const IDLE_TIMEOUT_SECONDS = 60;
const MAX_REQUESTS_PER_TARGET_PER_MINUTE = 1_000_000;

/** Per-child hooks, the shared ones included. */
export interface WebServiceTransforms extends FargateServiceTransforms {
  loadBalancerSecurityGroup?: Transform<aws.ec2.SecurityGroupArgs>;
  loadBalancer?: Transform<aws.lb.LoadBalancerArgs>;
  targetGroup?: Transform<aws.lb.TargetGroupArgs>;
  httpsListener?: Transform<aws.lb.ListenerArgs>;
  httpListener?: Transform<aws.lb.ListenerArgs>;
}

export interface WebServiceArgs extends FargateServiceArgs {
  /** Public subnets in two or more availability zones, where the load balancer listens. */
  publicSubnetIds: pulumi.Input<string>[];
  /**
   * The port the app listens on (the container gets it as `PORT`).
   * Changing it replaces the target group (a new one is attached before the old one goes).
   * @example 3000
   */
  containerPort: number;
  /**
   * The app's readiness path; a task receives traffic only while it answers 200.
   * @example "/readyz"
   */
  healthCheckPath: string;
  /**
   * How the load balancer picks a task: `round_robin`, or `least_outstanding_requests` (better
   * when requests vary in cost). Requests are never pinned to a task: the web tier is stateless.
   */
  loadBalancingAlgorithm: LoadBalancingAlgorithm;
  /**
   * An ACM certificate in this region. With it: HTTPS on 443 (TLS 1.2+) and 80 redirecting to it.
   * Without it (a stack with no domain): plain HTTP on 80 only.
   */
  certificateArn?: pulumi.Input<string>;
  /**
   * The name the certificate covers and DNS points at: `url` is `https://<domainName>`. Required
   * with `certificateArn` (the certificate does not cover the load balancer's own name); without a
   * domain `url` is `http://<the load balancer's DNS name>`.
   * @example "app.example.com"
   */
  domainName?: pulumi.Input<string>;
  /** Refuse to delete the load balancer (turn off before destroying the stack). */
  enableDeletionProtection: boolean;
  /**
   * Where the load balancer writes its access logs (an AccessLogBucket's `destination`: a bucket
   * in its region, SSE-S3, that ELB may write to).
   * @default undefined (no access logs)
   */
  accessLogs?: { bucket: pulumi.Input<string>; prefix: string };
  /** The average CPU (percent) the autoscaler keeps the tasks at. */
  cpuTargetPercent: number;
  /** The requests per task per minute the autoscaler keeps the tasks at (from a load test). */
  requestsPerTargetPerMinute: number;
  /** Change the arguments of a child resource before it is created. */
  transform?: WebServiceTransforms;
}

/**
 * Validates the arguments before any resource exists.
 * @returns the problems found, each naming the argument and the fix; empty when valid.
 */
export function validateWebServiceArgs(args: WebServiceArgs): string[] {
  const problems = validateFargateServiceArgs(args);
  if (args.minTasks < 1) {
    problems.push(
      `minTasks: ${args.minTasks} must be at least 1; the load balancer needs a task to send requests to`,
    );
  }
  if (args.publicSubnetIds.length < 2) {
    problems.push(
      `publicSubnetIds: ${args.publicSubnetIds.length} given; an application load balancer needs subnets in at least two availability zones`,
    );
  }
  if (
    !Number.isInteger(args.containerPort) ||
    args.containerPort < MIN_CONTAINER_PORT ||
    args.containerPort > MAX_PORT
  ) {
    problems.push(
      `containerPort: ${args.containerPort} must be a whole number from ${MIN_CONTAINER_PORT} to ${MAX_PORT} (the app runs as a non-root user)`,
    );
  }
  if (
    !/^\/[\w\-./~%]*$/.test(args.healthCheckPath) ||
    args.healthCheckPath.length > MAX_HEALTH_CHECK_PATH_LENGTH
  ) {
    problems.push(
      `healthCheckPath: "${args.healthCheckPath}" must be a path starting with "/", such as /readyz`,
    );
  }
  if ((args.certificateArn === undefined) !== (args.domainName === undefined)) {
    problems.push(
      args.certificateArn === undefined
        ? "domainName: given without certificateArn; HTTPS needs the name's certificate (or omit domainName)"
        : "domainName: missing; with certificateArn give the name the certificate covers, which the site's URL uses",
    );
  }
  if (!(LOAD_BALANCING_ALGORITHMS as readonly string[]).includes(args.loadBalancingAlgorithm)) {
    problems.push(
      `loadBalancingAlgorithm: "${args.loadBalancingAlgorithm}" must be one of ${LOAD_BALANCING_ALGORITHMS.join(", ")}`,
    );
  }
  if (!(args.cpuTargetPercent > 0 && args.cpuTargetPercent <= 100)) {
    problems.push(
      `cpuTargetPercent: ${args.cpuTargetPercent} must be a percentage above 0 and at most 100`,
    );
  }
  problems.push(
    ...wholeNumberProblems(
      "requestsPerTargetPerMinute",
      args.requestsPerTargetPerMinute,
      1,
      MAX_REQUESTS_PER_TARGET_PER_MINUTE,
    ),
  );
  return problems;
}

/** What the web tier puts in front of its tasks. */
interface LoadBalancing {
  securityGroup: aws.ec2.SecurityGroup;
  loadBalancer: aws.lb.LoadBalancer;
  targetGroup: aws.lb.TargetGroup;
  listeners: aws.lb.Listener[];
}

/**
 * The web tier of one region: an internet-facing application load balancer in the public
 * subnets in front of an autoscaled Fargate service in the private subnets (see FargateTasks
 * for the shared task, roles and deploy settings, and FargateService for `start`).
 *
 * - The load balancer's security group admits 80 (and 443 with a certificate) from anywhere and
 *   may only reach the tasks, on `containerPort`; the tasks admit only the load balancer.
 * - With `certificateArn`: HTTPS on 443 with TLS 1.2+ (`TLS_POLICY`) and a permanent redirect
 *   from 80. Without: plain HTTP on 80.
 * - Malformed headers are dropped, never passed to the app; deletion protection on request.
 * - Targets are task IPs, checked on `healthCheckPath`; no stickiness (sessions live in the cache).
 * - Stopping: a leaving task's requests get the contract's `WEB_SHUTDOWN.drainSeconds`; the app gets
 *   its deadline (`SHUTDOWN_DEADLINE_SECONDS`), which ends before that and before ECS's SIGKILL.
 * - Scaling: target tracking on average CPU and on requests per task, whichever asks for more.
 *
 * @example
 * ```ts
 * const web = new WebService("primary-web", {
 *   cluster: { arn: cluster.arn, name: cluster.name },
 *   vpcId: network.vpcId,
 *   subnetIds: network.privateSubnetIds,
 *   publicSubnetIds: network.publicSubnetIds,
 *   image, command: ["web"], cpu: 1024, memory: 2048, minTasks: 3, maxTasks: 30,
 *   containerPort: 3000, healthCheckPath: "/readyz",
 *   loadBalancingAlgorithm: "least_outstanding_requests",
 *   certificateArn: certificate.certificateArn, domainName: "app.example.com",
 *   enableDeletionProtection: true,
 *   cpuTargetPercent: 50, requestsPerTargetPerMinute: 6000,
 *   logRetentionDays: 90,
 * }, { provider });
 * // ...grants on web.taskRoleName, then:
 * web.start([cacheGrant, filesGrant]);
 * ```
 *
 * Cost (us-east-1): the load balancer is about $16 a month plus $5.84 per LCU-month of traffic;
 * tasks as in FargateTasks (prod's three 1 vCPU / 2 GB tasks about $108 a month).
 */
export class WebService extends FargateService<WebServiceArgs> {
  readonly albDnsName: pulumi.Output<string>;
  readonly albZoneId: pulumi.Output<string>;
  readonly albArn: pulumi.Output<string>;
  /** The `LoadBalancer` dimension of the load balancer's CloudWatch metrics. */
  readonly albArnSuffix: pulumi.Output<string>;
  /** The `TargetGroup` dimension of the target group's CloudWatch metrics. */
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  readonly albSecurityGroupId: pulumi.Output<string>;
  /**
   * Where the site answers: `https://<domainName>` with a domain (and its certificate); without
   * one, `http://<albDnsName>`, the only name the load balancer has then.
   */
  readonly url: pulumi.Output<string>;

  private readonly loadBalancing: LoadBalancing;

  constructor(name: string, args: WebServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("WebService", "web", name, args, validateWebServiceArgs(args), opts);
    this.loadBalancing = this.createLoadBalancing(name, args, this.tags);
    this.defineTasks(this.workSource(args));

    const { loadBalancer, targetGroup, securityGroup } = this.loadBalancing;
    this.albDnsName = loadBalancer.dnsName;
    this.albZoneId = loadBalancer.zoneId;
    this.albArn = loadBalancer.arn;
    this.albArnSuffix = loadBalancer.arnSuffix;
    this.targetGroupArnSuffix = targetGroup.arnSuffix;
    this.albSecurityGroupId = securityGroup.id;
    this.url =
      args.domainName === undefined
        ? pulumi.interpolate`http://${loadBalancer.dnsName}`
        : pulumi.interpolate`https://${args.domainName}`;
    this.registerServiceOutputs({
      albDnsName: this.albDnsName,
      albArnSuffix: this.albArnSuffix,
      targetGroupArnSuffix: this.targetGroupArnSuffix,
      url: this.url,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  override get nodes() {
    const { securityGroup, loadBalancer, targetGroup, listeners } = this.loadBalancing;
    return {
      ...super.nodes,
      loadBalancerSecurityGroup: securityGroup,
      loadBalancer,
      targetGroup,
      listeners,
    };
  }

  private createLoadBalancing(name: string, args: WebServiceArgs, tags: Tags): LoadBalancing {
    const securityGroup = this.createLoadBalancerSecurityGroup(name, args, tags);
    const loadBalancer = this.createLoadBalancer(name, args, securityGroup, tags);
    const targetGroup = this.createTargetGroup(name, args, tags);
    const listeners = this.createListeners(name, args, loadBalancer, targetGroup, tags);
    return { securityGroup, loadBalancer, targetGroup, listeners };
  }

  /** What the tasks get from the load balancer: the port, the target group, and their deadlines. */
  private workSource(args: WebServiceArgs): WorkSource {
    const { targetGroup, listeners } = this.loadBalancing;
    const environment: ComponentTaskEnvironment<"web", string> = {
      PORT: String(args.containerPort),
      SHUTDOWN_DEADLINE_SECONDS: String(WEB_SHUTDOWN.appSeconds),
    };
    return {
      environment,
      containerPorts: [args.containerPort],
      loadBalancers: [
        {
          targetGroupArn: targetGroup.arn,
          containerName: CONTAINER_NAME,
          containerPort: args.containerPort,
        },
      ],
      healthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_PERIOD_SECONDS,
      stopTimeoutSeconds: WEB_SHUTDOWN.stopTimeoutSeconds,
      dependsOn: listeners,
    };
  }

  /** Target tracking on average CPU and on requests per task, whichever asks for more. */
  protected override createScalingPolicies(
    name: string,
    { scalableTarget: target }: RunningTasks,
  ): aws.appautoscaling.Policy[] {
    const { args } = this;
    const { loadBalancer, targetGroup } = this.loadBalancing;
    return [
      this.createTargetTracking(`${name}-cpu-scaling`, target, {
        targetValue: args.cpuTargetPercent,
        predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
      }),
      this.createTargetTracking(`${name}-requests-scaling`, target, {
        targetValue: args.requestsPerTargetPerMinute,
        predefinedMetricSpecification: {
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: pulumi.interpolate`${loadBalancer.arnSuffix}/${targetGroup.arnSuffix}`,
        },
      }),
    ];
  }

  private createLoadBalancerSecurityGroup(
    name: string,
    args: WebServiceArgs,
    tags: Tags,
  ): aws.ec2.SecurityGroup {
    const group = new aws.ec2.SecurityGroup(
      `${name}-alb-sg`,
      transform(args.transform?.loadBalancerSecurityGroup, {
        vpcId: args.vpcId,
        description: "Web load balancer: HTTP(S) from anywhere, out only to the web tasks",
        tags: { ...tags, Name: `${name}-alb` },
      }),
      { parent: this },
    );
    // The VPC and the load balancer are IPv4-only, so there is no ::/0 rule to add.
    const ports = args.certificateArn === undefined ? [HTTP_PORT] : [HTTP_PORT, HTTPS_PORT];
    for (const port of ports) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-in-${port}`,
        {
          securityGroupId: group.id,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrIpv4: ANYWHERE,
          description: port === HTTP_PORT ? "HTTP from anywhere" : "HTTPS from anywhere",
          tags,
        },
        { parent: this },
      );
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-to-tasks`,
      {
        securityGroupId: group.id,
        ipProtocol: "tcp",
        fromPort: args.containerPort,
        toPort: args.containerPort,
        referencedSecurityGroupId: this.securityGroupId,
        description: "Requests and health checks to the web tasks",
        tags,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-tasks-from-alb`,
      {
        securityGroupId: this.securityGroupId,
        ipProtocol: "tcp",
        fromPort: args.containerPort,
        toPort: args.containerPort,
        referencedSecurityGroupId: group.id,
        description: "Requests and health checks from the load balancer",
        tags,
      },
      { parent: this },
    );
    return group;
  }

  private createLoadBalancer(
    name: string,
    args: WebServiceArgs,
    securityGroup: aws.ec2.SecurityGroup,
    tags: Tags,
  ): aws.lb.LoadBalancer {
    return new aws.lb.LoadBalancer(
      `${name}-alb`,
      transform(args.transform?.loadBalancer, {
        loadBalancerType: "application",
        internal: false,
        ipAddressType: "ipv4",
        subnets: args.publicSubnetIds,
        securityGroups: [securityGroup.id],
        dropInvalidHeaderFields: true,
        enableDeletionProtection: args.enableDeletionProtection,
        idleTimeout: IDLE_TIMEOUT_SECONDS,
        ...(args.accessLogs
          ? {
              accessLogs: {
                bucket: args.accessLogs.bucket,
                prefix: args.accessLogs.prefix,
                enabled: true,
              },
            }
          : {}),
        tags,
      }),
      { parent: this },
    );
  }

  private createTargetGroup(name: string, args: WebServiceArgs, tags: Tags): aws.lb.TargetGroup {
    return new aws.lb.TargetGroup(
      `${name}-tg`,
      transform(args.transform?.targetGroup, {
        vpcId: args.vpcId,
        targetType: "ip",
        protocol: "HTTP",
        port: args.containerPort,
        loadBalancingAlgorithmType: args.loadBalancingAlgorithm,
        stickiness: { type: "lb_cookie", enabled: false },
        deregistrationDelay: WEB_SHUTDOWN.drainSeconds,
        healthCheck: {
          enabled: true,
          protocol: "HTTP",
          port: "traffic-port",
          path: args.healthCheckPath,
          matcher: "200",
          interval: HEALTH_CHECK.intervalSeconds,
          timeout: HEALTH_CHECK.timeoutSeconds,
          healthyThreshold: HEALTH_CHECK.healthyThreshold,
          unhealthyThreshold: HEALTH_CHECK.unhealthyThreshold,
        },
        tags,
      }),
      // Autonamed, so a replacement (a new port) is attached before the old group is deleted.
      { parent: this },
    );
  }

  private createListeners(
    name: string,
    args: WebServiceArgs,
    loadBalancer: aws.lb.LoadBalancer,
    targetGroup: aws.lb.TargetGroup,
    tags: Tags,
  ): aws.lb.Listener[] {
    const forward = [{ type: "forward", targetGroupArn: targetGroup.arn }];
    // Port 80 forwards without a certificate; with one, it only redirects to 443.
    const http = (defaultActions: aws.types.input.lb.ListenerDefaultAction[]) =>
      new aws.lb.Listener(
        `${name}-http`,
        transform(args.transform?.httpListener, {
          loadBalancerArn: loadBalancer.arn,
          port: HTTP_PORT,
          protocol: "HTTP",
          defaultActions,
          tags,
        }),
        { parent: this },
      );
    if (args.certificateArn === undefined) return [http(forward)];
    const https = new aws.lb.Listener(
      `${name}-https`,
      transform(args.transform?.httpsListener, {
        loadBalancerArn: loadBalancer.arn,
        port: HTTPS_PORT,
        protocol: "HTTPS",
        sslPolicy: TLS_POLICY,
        certificateArn: args.certificateArn,
        defaultActions: forward,
        tags,
      }),
      { parent: this },
    );
    const redirect = http([
      {
        type: "redirect",
        redirect: { protocol: "HTTPS", port: String(HTTPS_PORT), statusCode: "HTTP_301" },
      },
    ]);
    return [https, redirect];
  }
}
