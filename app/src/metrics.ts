/**
 * Metrics in CloudWatch embedded metric format (EMF): each flush writes JSON lines to stdout whose
 * `_aws` metadata tells CloudWatch Logs which fields are metrics, so no agent or API call is needed.
 * Names, units and the `[["Service"]]` dimension set are the contract's (contract/metrics.ts).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import {
  METRIC_DIMENSION,
  METRIC_DIMENSION_SETS,
  METRIC_UNITS,
  type MetricName,
  type MetricService,
} from "../../contract";

export { METRIC_UNITS, type MetricName } from "../../contract";
export type CountMetric = Exclude<MetricName, "RequestLatency" | "ActiveUsers">;
export type Service = MetricService;

/** EMF allows at most 100 values in one metric's array. */
export const MAX_VALUES_PER_LINE = 100;
/**
 * Latency samples kept per flush interval. A busy task serves tens of thousands of requests a
 * minute; keeping all of them would cost memory and hundreds of log lines a minute. A uniform
 * sample of this size keeps percentiles within about a percent at p99, in ten lines at most.
 * (The metric's Count statistic is then the sample's size: request counts come from the ALB.)
 */
export const MAX_LATENCY_SAMPLES = 1000;

export interface MetricsOptions {
  namespace: string;
  service: Service;
  /** Receives one complete JSON document per call, without the newline. */
  write?: (line: string) => void;
  flushIntervalMs?: number;
  now?: () => number;
  /** A number in [0, 1); tests pass a seeded one. */
  random?: () => number;
}

export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: MetricName; Unit: string }[];
    }[];
  };
  Service: Service;
  [metric: string]: unknown;
}

export class Metrics {
  private counts = new Map<CountMetric, number>();
  private latencies: number[] = [];
  /** Latencies recorded this interval, sampled or not (the reservoir's denominator). */
  private latenciesSeen = 0;
  private activeUsers = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly write: (line: string) => void;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: MetricsOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  count(name: CountMetric, value = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }

  /** Records a request's latency; past MAX_LATENCY_SAMPLES a uniform sample is kept (reservoir sampling). */
  latency(milliseconds: number): void {
    const value = Math.round(milliseconds * 100) / 100;
    this.latenciesSeen += 1;
    if (this.latencies.length < MAX_LATENCY_SAMPLES) {
      this.latencies.push(value);
      return;
    }
    const slot = Math.floor(this.random() * this.latenciesSeen);
    if (slot < MAX_LATENCY_SAMPLES) this.latencies[slot] = value;
  }

  /** Records a signed-in user; ActiveUsers is the number of distinct ones per flush interval. */
  sawUser(userId: string): void {
    this.activeUsers.add(userId);
  }

  /** Flushes every interval (a minute by default, which makes ActiveUsers "in the last minute"). */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs ?? 60_000);
    this.timer.unref();
  }

  /** Stops the interval and writes what is left. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  /** Writes the documents for everything recorded since the last flush and resets. */
  flush(): EmfDocument[] {
    const documents = this.documents();
    this.counts = new Map();
    this.latencies = [];
    this.latenciesSeen = 0;
    this.activeUsers = new Set();
    for (const document of documents) this.write(JSON.stringify(document));
    return documents;
  }

  private documents(): EmfDocument[] {
    const values: Partial<Record<MetricName, number | number[]>> = Object.fromEntries(this.counts);
    // The web tier reports ActiveUsers every interval, zero included: "nobody signed in" is data.
    if (this.options.service === "web") values.ActiveUsers = this.activeUsers.size;
    const latencyChunks: number[][] = [];
    for (let start = 0; start < this.latencies.length; start += MAX_VALUES_PER_LINE) {
      latencyChunks.push(this.latencies.slice(start, start + MAX_VALUES_PER_LINE));
    }
    // The first document carries the counters and the first latency values; any further one only
    // latency values, so that no counter is counted twice.
    const documents: EmfDocument[] = [];
    if (Object.keys(values).length > 0 || latencyChunks.length > 0) {
      const first = latencyChunks.shift();
      documents.push(
        this.document(first === undefined ? values : { ...values, RequestLatency: first }),
      );
    }
    for (const chunk of latencyChunks) documents.push(this.document({ RequestLatency: chunk }));
    return documents;
  }

  private document(values: Partial<Record<MetricName, number | number[]>>): EmfDocument {
    const names = Object.keys(values) as MetricName[];
    return {
      _aws: {
        Timestamp: this.now(),
        CloudWatchMetrics: [
          {
            Namespace: this.options.namespace,
            Dimensions: METRIC_DIMENSION_SETS.map((set) => [...set]),
            Metrics: names.map((name) => ({ Name: name, Unit: METRIC_UNITS[name] })),
          },
        ],
      },
      [METRIC_DIMENSION]: this.options.service,
      ...values,
    };
  }
}
