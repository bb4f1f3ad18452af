/**
 * The dashboard and alarm toolkit both observability components are built from: metrics and
 * metric math as data, a dashboard laid out from rows of graphs, alarms from `AlarmSpec`s (each
 * with the sentence and runbook line the person paged reads), and the encrypted topic they notify.
 * What a region or the global view watches lives with its component (observability.ts,
 * globalObservability.ts), as tables of these specs.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";
import { createKmsKey } from "./kmsKey";
import { physicalName, tierTags, type Tags } from "./tags";
import { type Transform, transform } from "./transform";
import { accountOf, contextOf, type AwsContext } from "./awsContext";

/** CloudWatch's limit for dashboard names. */
const MAX_DASHBOARD_NAME_LENGTH = 255;
/** The dashboard grid is 24 units wide; a row shows up to four graphs side by side. */
const GRID_WIDTH = 24;
const MAX_GRAPHS_PER_LINE = 4;
const GRAPH_HEIGHT = 6;
const HEADER_HEIGHT = 1;
/** Alarm and graph periods, in seconds. */
export const MINUTE = 60;
export const FIVE_MINUTES = 300;
const CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com";

/** A metric exactly as an AWS service (or the app) publishes it. */
export interface Metric {
  namespace: string;
  name: string;
  /** Dimension names as the service publishes them, with the resource's real identifiers. */
  dimensions: Record<string, pulumi.Input<string>>;
  /** `Sum`, `Average`, `Minimum`, `Maximum` or a percentile such as `p99`. */
  stat: string;
  /** The line's legend on the dashboard. */
  label?: pulumi.Input<string>;
}

/** A line computed with CloudWatch metric math from named metrics (names are the ids in `expression`). */
export interface MetricMath {
  expression: string;
  metrics: Record<string, Metric>;
  label: string;
}

export type MetricLine = Metric | MetricMath;

/** One graph on a dashboard. */
export interface Graph {
  title: string;
  lines: MetricLine[];
}

/** A row of the dashboard: a header and the tier's graphs. */
export interface DashboardRow {
  title: string;
  graphs: Graph[];
}

/** An alarm as data: what it watches, when it fires and what the person paged should look at. */
export interface AlarmSpec {
  /** The alarm's logical name is `${component}-${role}`. */
  role: string;
  /** What is wrong, in a sentence (the alarm's description starts with it). */
  what: string;
  /** Where the person paged starts looking; the description ends with it and the dashboard's link. */
  lookAt: string;
  line: MetricLine;
  comparison: "GreaterThanThreshold" | "LessThanThreshold";
  threshold: number;
  periodSeconds: number;
  evaluationPeriods: number;
  /** How many of `evaluationPeriods` must breach; all of them when unset. */
  datapointsToAlarm?: number;
  /** What a period without data means for this metric (the specs say why for each). */
  treatMissingData: "breaching" | "notBreaching" | "missing" | "ignore";
}

/** Per-child hooks shared by both observability components. */
export interface ObservabilityTransforms {
  topic?: Transform<aws.sns.TopicArgs>;
  dashboard?: Transform<aws.cloudwatch.DashboardArgs>;
  alarm?: Transform<aws.cloudwatch.MetricAlarmArgs>;
}
/** Problems with an optional alarm email, shared by both observability components. */
export function alarmEmailProblems(alarmEmail: string | undefined): string[] {
  if (alarmEmail === undefined || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) return [];
  return [
    `alarmEmail: "${alarmEmail}" is not an email address; pass one such as ops@example.com, or leave it unset`,
  ];
}

/** A metric with its dimensions; the shorthand the tier tables below are written in. */
export function metric(
  namespace: string,
  name: string,
  dimensions: Record<string, pulumi.Input<string>>,
  stat: string,
  label?: pulumi.Input<string>,
): Metric {
  return { namespace, name, dimensions, stat, ...(label === undefined ? {} : { label }) };
}

/** The dashboard's name: unique per project, stack and component, since dashboards are account-wide. */
function dashboardName(component: string): string {
  return physicalName(
    [pulumi.getProject(), pulumi.getStack(), component],
    MAX_DASHBOARD_NAME_LENGTH,
  );
}

/** The console link of a dashboard. */
function dashboardUrl(region: string, name: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${name}`;
}

/**
 * The dashboard's JSON: per row a full-width markdown header, then its graphs (up to four per
 * line). Every graph reads from `region`.
 */
function dashboardBody(region: string, rows: DashboardRow[]): pulumi.Output<string> {
  const widgets: unknown[] = [];
  let y = 0;
  for (const row of rows) {
    widgets.push({
      type: "text",
      x: 0,
      y,
      width: GRID_WIDTH,
      height: HEADER_HEIGHT,
      properties: { markdown: `## ${row.title}` },
    });
    y += HEADER_HEIGHT;
    const perLine = Math.min(row.graphs.length, MAX_GRAPHS_PER_LINE);
    const width = Math.floor(GRID_WIDTH / perLine);
    row.graphs.forEach((graph, index) => {
      widgets.push({
        type: "metric",
        x: (index % perLine) * width,
        y: y + Math.floor(index / perLine) * GRAPH_HEIGHT,
        width,
        height: GRAPH_HEIGHT,
        properties: {
          title: graph.title,
          region,
          view: "timeSeries",
          stacked: false,
          period: MINUTE,
          metrics: graph.lines.flatMap(graphLines),
        },
      });
    });
    y += Math.ceil(row.graphs.length / perLine) * GRAPH_HEIGHT;
  }
  return pulumi.jsonStringify({ widgets });
}

/** A dashboard graph's `metrics` entries for one line: `[namespace, name, dim, value, ..., options]`. */
function graphLines(line: MetricLine): unknown[][] {
  const entry = (m: Metric, options: Record<string, unknown>) => [
    m.namespace,
    m.name,
    ...Object.entries(m.dimensions).flat(),
    { stat: m.stat, ...(m.label === undefined ? {} : { label: m.label }), ...options },
  ];
  if (!("expression" in line)) return [entry(line, {})];
  return [
    ...Object.entries(line.metrics).map(([id, m]) => entry(m, { id, visible: false })),
    [{ expression: line.expression, label: line.label, id: "result" }],
  ];
}

/** The MetricAlarm arguments that describe what the alarm watches. */
function alarmMetricArgs(
  line: MetricLine,
  period: number,
): Partial<aws.cloudwatch.MetricAlarmArgs> {
  if ("expression" in line) {
    return {
      metricQueries: [
        ...Object.entries(line.metrics).map(([id, m]) => ({
          id,
          returnData: false,
          metric: {
            namespace: m.namespace,
            metricName: m.name,
            dimensions: m.dimensions,
            stat: m.stat,
            period,
          },
        })),
        { id: "result", expression: line.expression, label: line.label, returnData: true },
      ],
    };
  }
  const percentile = /^p\d/.test(line.stat);
  return {
    namespace: line.namespace,
    metricName: line.name,
    dimensions: line.dimensions,
    period,
    // Percentiles over a handful of requests are noise: keep the alarm's state until there are enough.
    ...(percentile
      ? { extendedStatistic: line.stat, evaluateLowSampleCountPercentiles: "ignore" }
      : { statistic: line.stat }),
  };
}

/** Creates one alarm per spec, each notifying `topicArn` when it fires and when it recovers. */
function createAlarms(
  parent: pulumi.Resource,
  name: string,
  specs: AlarmSpec[],
  {
    topicArn,
    dashboardUrl,
  }: { topicArn: pulumi.Input<string>; dashboardUrl: pulumi.Input<string> },
  tags: Tags,
  hook: Transform<aws.cloudwatch.MetricAlarmArgs> | undefined,
): aws.cloudwatch.MetricAlarm[] {
  return specs.map(
    (spec) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.role}`,
        transform(hook, {
          alarmDescription: pulumi.interpolate`${spec.what} Look at ${spec.lookAt}. Dashboard: ${dashboardUrl}`,
          comparisonOperator: spec.comparison,
          threshold: spec.threshold,
          evaluationPeriods: spec.evaluationPeriods,
          datapointsToAlarm: spec.datapointsToAlarm ?? spec.evaluationPeriods,
          treatMissingData: spec.treatMissingData,
          ...alarmMetricArgs(spec.line, spec.periodSeconds),
          alarmActions: [topicArn],
          okActions: [topicArn],
          tags,
        }),
        { parent },
      ),
  );
}

/**
 * The provider's region (the context's, when the caller gave one), checked against the one the
 * component was told (a dashboard reading another region's metrics shows nothing, and alarms only
 * see metrics of their own region).
 */
export function providerRegion(
  parent: pulumi.Resource,
  expected: string,
  why: string,
  context?: AwsContext,
): pulumi.Output<string> {
  return contextOf(context, { parent }).region.apply((region) => {
    if (region !== expected)
      throw new Error(`the provider's region is ${region}, but ${why} (${expected})`);
    return region;
  });
}

/**
 * An SNS topic CloudWatch alarms in this account and region may publish to, encrypted at rest,
 * with an email subscription when `alarmEmail` is set.
 *
 * The key is customer-managed on purpose: CloudWatch calls KMS itself when it publishes, and the
 * AWS-managed `alias/aws/sns` key's policy cannot grant it, so alarms on such a topic fail with
 * KMS AccessDenied and nobody is told.
 */
function createAlarmTopic(
  parent: pulumi.Resource,
  name: string,
  args: {
    region: pulumi.Input<string>;
    alarmEmail?: string;
    tags: Tags;
    hook?: Transform<aws.sns.TopicArgs>;
    context: AwsContext | undefined;
  },
): aws.sns.Topic {
  const { accountId: account, partition } = accountOf(args.context, { parent });
  const alarmsHere = pulumi.interpolate`arn:${partition}:cloudwatch:${args.region}:${account}:alarm:*`;
  const fromOurAlarms = {
    StringEquals: { "aws:SourceAccount": account },
    ArnLike: { "aws:SourceArn": alarmsHere },
  };

  const key = createKmsKey(parent, `${name}-alarms`, {
    description: `Encrypts the alarm notifications of ${name}`,
    users: [
      {
        sid: "CloudWatchAlarmsEncryptNotifications",
        principal: { Service: CLOUDWATCH_PRINCIPAL },
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        condition: fromOurAlarms,
      },
    ],
    tags: args.tags,
    ...(args.context ? { account: args.context } : {}),
  });
  const topic = new aws.sns.Topic(
    `${name}-alarms`,
    transform(args.hook, { displayName: "Alarms", kmsMasterKeyId: key.arn, tags: args.tags }),
    { parent },
  );
  new aws.sns.TopicPolicy(
    `${name}-alarms`,
    {
      arn: topic.arn,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "CloudWatchAlarmsPublish",
            Effect: "Allow",
            Principal: { Service: CLOUDWATCH_PRINCIPAL },
            Action: "sns:Publish",
            Resource: topic.arn,
            Condition: fromOurAlarms,
          },
        ],
      }),
    },
    { parent },
  );
  if (args.alarmEmail !== undefined) {
    new aws.sns.TopicSubscription(
      `${name}-alarms-email`,
      { topic: topic.arn, protocol: "email", endpoint: args.alarmEmail },
      { parent },
    );
  }
  return topic;
}

/** What a monitoring component watches: its dashboard's rows and its alarms. */
export interface MonitoringArgs {
  /** The region the graphs read and the alarms live in; the provider's region must be this one. */
  region: string;
  /** Why the provider must be in `region`, for the error when it is not. */
  whyRegion: string;
  alarmEmail: string | undefined;
  rows: DashboardRow[];
  alarms: AlarmSpec[];
  transform: ObservabilityTransforms | undefined;
  /** The account, partition and region (components/awsContext.ts); unset: looked up. */
  context: AwsContext | undefined;
}

/**
 * What both observability components are: an alarm topic (with the email subscription when
 * set), a dashboard, and alarms notifying the topic on alarm and OK. Subclasses validate their
 * arguments and describe the rows and alarms as data.
 */
export abstract class MonitoringComponent extends pulumi.ComponentResource {
  readonly dashboardName: pulumi.Output<string>;
  readonly dashboardUrl: pulumi.Output<string>;
  readonly alarmTopicArn: pulumi.Output<string>;

  private readonly topic: aws.sns.Topic;
  private readonly dashboard: aws.cloudwatch.Dashboard;
  private readonly alarms: aws.cloudwatch.MetricAlarm[];

  protected constructor(
    type: string,
    name: string,
    args: MonitoringArgs,
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);
    const tags = tierTags("observability");

    this.topic = createAlarmTopic(this, name, {
      region: providerRegion(this, args.region, args.whyRegion, args.context),
      alarmEmail: args.alarmEmail,
      tags,
      hook: args.transform?.topic,
      context: args.context,
    });
    this.dashboard = this.createDashboard(name, args);
    this.dashboardName = this.dashboard.dashboardName;
    this.dashboardUrl = dashboardUrl(args.region, this.dashboardName);
    this.alarms = createAlarms(
      this,
      name,
      args.alarms,
      { topicArn: this.topic.arn, dashboardUrl: this.dashboardUrl },
      tags,
      args.transform?.alarm,
    );

    this.alarmTopicArn = this.topic.arn;
    this.registerOutputs({
      dashboardName: this.dashboardName,
      dashboardUrl: this.dashboardUrl,
      alarmTopicArn: this.alarmTopicArn,
    });
  }

  /** The underlying resources, for what the arguments do not cover. */
  get nodes() {
    return { topic: this.topic, dashboard: this.dashboard, alarms: this.alarms };
  }

  private createDashboard(name: string, args: MonitoringArgs): aws.cloudwatch.Dashboard {
    return new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      transform(args.transform?.dashboard, {
        dashboardName: dashboardName(name),
        dashboardBody: dashboardBody(args.region, args.rows),
      }),
      { parent: this },
    );
  }
}
