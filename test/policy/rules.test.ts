/**
 * Every rule of the pack against deliberately bad resources it must catch, good ones it must
 * pass, and preview-time resources whose deciding value is unknown (never flagged). The table has
 * a row per rule, and a test fails when a rule has none, so no rule can pass vacuously.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { PolicyPackConfig } from "@pulumi/policy";
import { DNSSEC_OFF_TAG as PROGRAM_DNSSEC_OFF_TAG } from "../../components/dnsZone";
import { policies } from "../../policy/policies";
import { DNSSEC_OFF_TAG } from "../../policy/rules/audit";
import {
  type TestResource,
  UNKNOWN_IN_PREVIEW,
  describeViolations,
  runPolicies,
  urnOf,
} from "./runner";

const PROJECT_ROOT = join(__dirname, "..", "..");
const packConfig = (environment: "dev" | "prod" | "localstack") =>
  JSON.parse(
    readFileSync(join(PROJECT_ROOT, "policy", `config.${environment}.json`), "utf8"),
  ) as PolicyPackConfig;

const RDS = "aws:rds/instance:Instance";
const CACHE = "aws:elasticache/replicationGroup:ReplicationGroup";
const QUEUE = "aws:sqs/queue:Queue";
const BUCKET = "aws:s3/bucket:Bucket";
const PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ENCRYPTION =
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const BUCKET_ACL = "aws:s3/bucketAcl:BucketAcl";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer";
const LISTENER = "aws:lb/listener:Listener";
const CERTIFICATE = "aws:acm/certificate:Certificate";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const HEADERS_POLICY = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy";
const SERVICE = "aws:ecs/service:Service";
const TASK = "aws:ecs/taskDefinition:TaskDefinition";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const IAM_POLICY = "aws:iam/policy:Policy";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const KMS_KEY = "aws:kms/key:Key";
const ZONE = "aws:route53/zone:Zone";
const QUERY_LOG = "aws:route53/queryLog:QueryLog";
const ZONE_DNSSEC = "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec";
const DELIVERY_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource";
const DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery";
const BUCKET_LOGGING = "aws:s3/bucketLogging:BucketLogging";
const REPOSITORY = "aws:ecr/repository:Repository";
const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
const VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint";
const NETWORK_ACL = "aws:ec2/networkAcl:NetworkAcl";
const DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
const RECORD = "aws:route53/record:Record";
const KMS_ALIAS = "aws:kms/alias:Alias";
const WEB_ACL = "aws:wafv2/webAcl:WebAcl";
const WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation";

const resource = (
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<TestResource> = {},
) => ({
  type,
  name,
  inputs,
  ...extra,
});
const without = (inputs: Record<string, unknown>, key: string) =>
  Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== key));

const WRITER = {
  engine: "postgres",
  storageEncrypted: true,
  kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/writer",
  publiclyAccessible: false,
  backupRetentionPeriod: 14,
  multiAz: true,
  deletionProtection: true,
  skipFinalSnapshot: false,
  finalSnapshotIdentifier: "db-writer-final",
};
const REPLICA = {
  replicateSourceDb: "db-writer",
  storageEncrypted: true,
  publiclyAccessible: false,
  backupRetentionPeriod: 0,
  multiAz: false,
  deletionProtection: false,
  skipFinalSnapshot: true,
};
const writer = (changes: Record<string, unknown> = {}) =>
  resource(RDS, "db-writer", { ...WRITER, ...changes });
const writerWithout = (key: string) => resource(RDS, "db-writer", without(WRITER, key));
const replica = (changes: Record<string, unknown> = {}) =>
  resource(RDS, "db-replica", { ...REPLICA, ...changes });
const cache = (changes: Record<string, unknown> = {}) =>
  resource(CACHE, "sessions", {
    atRestEncryptionEnabled: true,
    transitEncryptionEnabled: true,
    automaticFailoverEnabled: true,
    multiAzEnabled: true,
    numCacheClusters: 3,
    userGroupIds: ["zm-prod-sessions-users"],
    ...changes,
  });

const queueArn = (name: string) => `arn:aws:sqs:us-east-1:123456789012:${name}`;
const queue = (name: string, inputs: Record<string, unknown>, extra: Partial<TestResource> = {}) =>
  resource(QUEUE, name, inputs, {
    outputs: {
      ...inputs,
      arn: queueArn(name),
      url: `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`,
    },
    ...extra,
  });
/** A queue as a preview shows it before creation: its ARN, URL and redrive settings computed. */
const newQueue = (
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<TestResource> = {},
) =>
  resource(QUEUE, name, inputs, {
    outputs: {
      arn: UNKNOWN_IN_PREVIEW,
      url: UNKNOWN_IN_PREVIEW,
      redrivePolicy: UNKNOWN_IN_PREVIEW,
      redriveAllowPolicy: UNKNOWN_IN_PREVIEW,
      ...inputs,
    },
    ...extra,
  });
const redriveTo = (name: string) =>
  JSON.stringify({ deadLetterTargetArn: queueArn(name), maxReceiveCount: 5 });

/** A bucket as the engine reports it after creation: its id is its name. */
const bucket = (name: string, inputs: Record<string, unknown> = {}) =>
  resource(BUCKET, name, inputs, {
    outputs: { ...inputs, id: `${name}-bucket`, bucket: `${name}-bucket` },
  });
const ALL_BLOCKED = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
};
const guards = (name: string) => [
  resource(PUBLIC_ACCESS_BLOCK, `${name}-public-access`, {
    bucket: `${name}-bucket`,
    ...ALL_BLOCKED,
  }),
  resource(ENCRYPTION, `${name}-encryption`, {
    bucket: `${name}-bucket`,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
  }),
  resource(OWNERSHIP, `${name}-ownership`, {
    bucket: `${name}-bucket`,
    rule: { objectOwnership: "BucketOwnerEnforced" },
  }),
];
const bucketPolicy = (statement: Record<string, unknown>) =>
  resource(BUCKET_POLICY, "assets-policy", {
    bucket: "assets-bucket",
    policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
  });

const ingress = (name: string, inputs: Record<string, unknown>) =>
  resource(INGRESS, name, { ipProtocol: "tcp", securityGroupId: "sg-app", ...inputs });
const alb = (inputs: Record<string, unknown> = {}) =>
  resource(LOAD_BALANCER, "web-alb", {
    loadBalancerType: "application",
    securityGroups: ["sg-alb"],
    ...inputs,
  });
const ALB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/1";
const listener = (
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<TestResource> = {},
) =>
  resource(
    LISTENER,
    name,
    { loadBalancerArn: ALB_ARN, ...inputs },
    { region: "us-east-1", ...extra },
  );
const FORWARD = [
  {
    type: "forward",
    targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1",
  },
];
const REDIRECT = [
  { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
];
const httpsListener = listener("web-https", {
  protocol: "HTTPS",
  port: 443,
  sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
  defaultActions: FORWARD,
});
const certificate = (region: string) =>
  resource(
    CERTIFICATE,
    `cert-${region}`,
    { domainName: "app.example.com", validationMethod: "DNS" },
    { region },
  );

const distribution = (changes: Record<string, unknown> = {}) =>
  resource(DISTRIBUTION, "assets-cdn", {
    enabled: true,
    defaultCacheBehavior: { targetOriginId: "s3", viewerProtocolPolicy: "redirect-to-https" },
    origins: [{ originId: "s3", domainName: "assets-bucket.s3.us-east-1.amazonaws.com" }],
    viewerCertificate: { cloudfrontDefaultCertificate: true },
    ...changes,
  });
/** A deployed internet-facing ALB: its ARN is known, as associations name it. */
const deployedAlb = (inputs: Record<string, unknown> = {}) =>
  resource(
    LOAD_BALANCER,
    "web-alb",
    { loadBalancerType: "application", internal: false, ...inputs },
    { outputs: { loadBalancerType: "application", internal: false, ...inputs, arn: ALB_ARN } },
  );
const CDN_WEB_ACL_ARN = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/assets-waf/1";
const association = (resourceArn: unknown, extra: Partial<TestResource> = {}) =>
  resource(
    WEB_ACL_ASSOCIATION,
    "web-waf-association",
    {
      resourceArn,
      webAclArn: "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/web-waf/1",
    },
    extra,
  );
const containers = (definitions: unknown) =>
  resource(TASK, "web-task", { containerDefinitions: JSON.stringify(definitions) });
const AWSLOGS = {
  logDriver: "awslogs",
  options: {
    "awslogs-group": "/app/web",
    "awslogs-region": "us-east-1",
    "awslogs-stream-prefix": "web",
  },
};
const document = (statement: Record<string, unknown>) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [statement] });
/** A key policy: the account administers the key, and `statement` adds a user. */
const keyPolicy = (statement: Record<string, unknown>) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministersKey",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::123456789012:root" },
        Action: "kms:*",
        Resource: "*",
      },
      { Effect: "Allow", Resource: "*", ...statement },
    ],
  });
const DISTRIBUTION_ARN = "arn:aws:cloudfront::123456789012:distribution/E1";
/** The distribution as the engine reports it after creation, with its ARN. */
const loggedDistribution = () => ({
  ...distribution(),
  outputs: { ...distribution().inputs, arn: DISTRIBUTION_ARN },
});
const deliverySource = (resourceArn: unknown) =>
  resource(
    DELIVERY_SOURCE,
    "edge-logs-cdn",
    { name: "zm-prod-edge-logs-cdn", logType: "ACCESS_LOGS", resourceArn },
    { outputs: { name: "zm-prod-edge-logs-cdn", logType: "ACCESS_LOGS", resourceArn } },
  );
const delivery = resource(DELIVERY, "edge-logs-cdn", {
  deliverySourceName: "zm-prod-edge-logs-cdn",
  deliveryDestinationArn: "arn:aws:logs:us-east-1:123456789012:delivery-destination:cdn",
});
const ZONE_ID = "Z0123456789ABC";
const zone = () =>
  resource(
    ZONE,
    "zone-zone",
    { name: "example.com" },
    { outputs: { name: "example.com", zoneId: ZONE_ID } },
  );
const loggingOf = (source: string, target: string) =>
  resource(BUCKET_LOGGING, `${source}-access-logs`, {
    bucket: `${source}-bucket`,
    targetBucket: `${target}-bucket`,
    targetPrefix: `s3/${source}/`,
  });
const STAR_ON_STAR = { Effect: "Allow", Action: "*", Resource: "*" };
const ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms";

interface World {
  label: string;
  resources: TestResource[];
  /** The environment whose policy/config.<environment>.json applies (default prod). */
  environment?: "dev" | "prod" | "localstack";
  /** The resource a violation must name (default: the first). */
  offender?: string;
}

interface Row {
  policy: string;
  bad: World[];
  good: World[];
}

const rows: Row[] = [
  {
    policy: "rds-encrypted-at-rest",
    bad: [
      {
        label: "a writer with storageEncrypted false",
        resources: [writer({ storageEncrypted: false })],
      },
      {
        label: "a writer that never sets storageEncrypted",
        resources: [writerWithout("storageEncrypted")],
      },
      {
        label: "a replica neither encrypted nor keyed",
        resources: [replica({ storageEncrypted: false })],
      },
    ],
    good: [
      { label: "an encrypted writer", resources: [writer()] },
      {
        label: "a cross-region replica with only a KMS key",
        resources: [
          replica({
            storageEncrypted: undefined,
            kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/r",
          }),
        ],
      },
      {
        label: "preview: storageEncrypted unknown",
        resources: [writer({ storageEncrypted: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "rds-not-publicly-accessible",
    bad: [{ label: "a public writer", resources: [writer({ publiclyAccessible: true })] }],
    good: [
      { label: "a private writer", resources: [writer()] },
      {
        label: "preview: publiclyAccessible unknown",
        resources: [writer({ publiclyAccessible: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "rds-automated-backups",
    bad: [
      {
        label: "a prod writer with 1 day of backups",
        resources: [writer({ backupRetentionPeriod: 1 })],
      },
      {
        label: "a dev writer with backups off",
        resources: [writer({ backupRetentionPeriod: 0 })],
        environment: "dev",
      },
      {
        label: "a writer that never sets retention",
        resources: [writerWithout("backupRetentionPeriod")],
      },
    ],
    good: [
      {
        label: "a dev writer with 1 day",
        resources: [writer({ backupRetentionPeriod: 1 })],
        environment: "dev",
      },
      { label: "a prod replica without backups (its writer has them)", resources: [replica()] },
      {
        label: "preview: retention unknown",
        resources: [writer({ backupRetentionPeriod: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "rds-prod-multi-az",
    bad: [{ label: "a single-AZ prod writer", resources: [writer({ multiAz: false })] }],
    good: [
      {
        label: "a single-AZ dev writer",
        resources: [writer({ multiAz: false })],
        environment: "dev",
      },
      { label: "a single-AZ prod replica", resources: [replica()] },
      {
        label: "preview: a replica whose source is unknown",
        resources: [writer({ multiAz: false, replicateSourceDb: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "rds-prod-deletion-protection",
    bad: [
      { label: "an unprotected prod writer", resources: [writer({ deletionProtection: false })] },
    ],
    good: [
      {
        label: "an unprotected dev writer",
        resources: [writer({ deletionProtection: false })],
        environment: "dev",
      },
      { label: "a protected prod writer", resources: [writer()] },
    ],
  },
  {
    policy: "rds-prod-final-snapshot",
    bad: [
      {
        label: "a prod writer that skips its final snapshot",
        resources: [writer({ skipFinalSnapshot: true })],
      },
      {
        label: "a prod writer with no snapshot identifier",
        resources: [writerWithout("finalSnapshotIdentifier")],
      },
    ],
    good: [
      {
        label: "a dev writer that skips it",
        resources: [writer({ skipFinalSnapshot: true })],
        environment: "dev",
      },
      { label: "a prod replica that skips it", resources: [replica()] },
      {
        label: "preview: identifier unknown",
        resources: [writer({ finalSnapshotIdentifier: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "elasticache-encrypted-at-rest",
    bad: [
      {
        label: "a cache without encryption at rest",
        resources: [cache({ atRestEncryptionEnabled: false })],
      },
    ],
    good: [{ label: "an encrypted cache", resources: [cache()] }],
  },
  {
    policy: "elasticache-encrypted-in-transit",
    bad: [
      { label: "a plaintext cache", resources: [cache({ transitEncryptionEnabled: false })] },
      {
        label: "a cache in preferred mode",
        resources: [cache({ transitEncryptionMode: "preferred" })],
      },
    ],
    good: [
      { label: "a TLS-only cache", resources: [cache({ transitEncryptionMode: "required" })] },
      {
        label: "preview: mode unknown",
        resources: [cache({ transitEncryptionMode: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "elasticache-prod-automatic-failover",
    bad: [
      {
        label: "a prod cache without failover",
        resources: [cache({ automaticFailoverEnabled: false })],
      },
    ],
    good: [
      {
        label: "a dev cache without failover",
        resources: [cache({ automaticFailoverEnabled: false })],
        environment: "dev",
      },
      { label: "a prod cache with failover", resources: [cache()] },
    ],
  },
  {
    policy: "elasticache-no-static-password",
    bad: [
      {
        label: "a cache with an AUTH token",
        resources: [cache({ authToken: "a-long-lived-password", userGroupIds: undefined })],
      },
      { label: "a cache without a user group", resources: [cache({ userGroupIds: undefined })] },
      { label: "a cache with an empty user group list", resources: [cache({ userGroupIds: [] })] },
    ],
    good: [
      { label: "a cache signing in through a user group", resources: [cache()] },
      {
        label: "a cache whose user groups are unknown in preview",
        resources: [cache({ userGroupIds: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "sqs-encrypted-at-rest",
    bad: [{ label: "a queue with no encryption setting", resources: [queue("jobs", {})] }],
    good: [
      {
        label: "SQS-managed encryption",
        resources: [queue("jobs", { sqsManagedSseEnabled: true })],
      },
      { label: "a KMS key", resources: [queue("jobs", { kmsMasterKeyId: "alias/jobs" })] },
    ],
  },
  {
    policy: "sqs-dead-letter-queue",
    bad: [
      { label: "a queue with no dead-letter queue", resources: [queue("jobs", {})] },
      {
        label: "a redrive policy naming another queue than the spare one",
        resources: [queue("spare", {}), queue("jobs", { redrivePolicy: redriveTo("elsewhere") })],
      },
      {
        label: "preview: a new queue whose computed redrive settings were set from nothing",
        resources: [newQueue("jobs", {})],
      },
    ],
    good: [
      {
        label: "a queue and its dead-letter queue",
        resources: [queue("jobs", { redrivePolicy: redriveTo("jobs-dlq") }), queue("jobs-dlq", {})],
      },
      {
        label: "a dead-letter queue that allows its sources",
        resources: [queue("jobs-dlq", { redriveAllowPolicy: '{"redrivePermission":"allowAll"}' })],
      },
      {
        label: "preview: the redrive policy is unknown but depends on the dead-letter queue",
        resources: [
          newQueue(
            "jobs",
            { redrivePolicy: UNKNOWN_IN_PREVIEW },
            { propertyDependencies: { redrivePolicy: [urnOf(QUEUE, "jobs-dlq")] } },
          ),
          newQueue("jobs-dlq", {}),
        ],
      },
    ],
  },
  {
    policy: "s3-encrypted-at-rest",
    bad: [
      { label: "a bucket with no encryption configuration", resources: [bucket("assets")] },
      {
        label: "an encryption configuration for another bucket",
        resources: [bucket("assets"), ...guards("logs")],
      },
    ],
    good: [
      {
        label: "a bucket with its configuration",
        resources: [bucket("assets"), ...guards("assets")],
      },
      {
        label: "preview: the configuration's bucket is unknown but depends on the bucket",
        resources: [
          resource(
            BUCKET,
            "assets",
            {},
            { outputs: { id: UNKNOWN_IN_PREVIEW, bucket: "assets-bucket" } },
          ),
          resource(
            ENCRYPTION,
            "assets-encryption",
            { bucket: UNKNOWN_IN_PREVIEW, rules: [] },
            { propertyDependencies: { bucket: [urnOf(BUCKET, "assets")] } },
          ),
        ],
      },
    ],
  },
  {
    policy: "s3-public-access-blocked",
    bad: [
      { label: "a bucket with no public-access block", resources: [bucket("assets")] },
      {
        label: "a block that leaves restrictPublicBuckets off",
        resources: [
          bucket("assets"),
          resource(PUBLIC_ACCESS_BLOCK, "assets-public-access", {
            bucket: "assets-bucket",
            ...ALL_BLOCKED,
            restrictPublicBuckets: false,
          }),
        ],
      },
      {
        label: "preview: the only block's bucket comes from another bucket",
        resources: [
          bucket("assets"),
          bucket("logs"),
          resource(
            PUBLIC_ACCESS_BLOCK,
            "logs-public-access",
            { bucket: UNKNOWN_IN_PREVIEW, ...ALL_BLOCKED },
            { propertyDependencies: { bucket: [urnOf(BUCKET, "logs")] } },
          ),
        ],
      },
    ],
    good: [
      { label: "a bucket with a full block", resources: [bucket("assets"), ...guards("assets")] },
      {
        label: "preview: the block's bucket is unknown but comes from the bucket",
        resources: [
          bucket("assets"),
          resource(
            PUBLIC_ACCESS_BLOCK,
            "assets-public-access",
            { bucket: UNKNOWN_IN_PREVIEW, ...ALL_BLOCKED },
            { propertyDependencies: { bucket: [urnOf(BUCKET, "assets")] } },
          ),
        ],
      },
    ],
  },
  {
    policy: "s3-acls-disabled",
    bad: [
      { label: "a bucket with no ownership controls", resources: [bucket("assets")] },
      {
        label: "ownership controls that keep ACLs",
        resources: [
          bucket("assets"),
          resource(OWNERSHIP, "assets-ownership", {
            bucket: "assets-bucket",
            rule: { objectOwnership: "ObjectWriter" },
          }),
        ],
      },
    ],
    good: [{ label: "BucketOwnerEnforced", resources: [bucket("assets"), ...guards("assets")] }],
  },
  {
    policy: "s3-no-public-grants",
    bad: [
      { label: "a public-read bucket ACL", resources: [bucket("assets", { acl: "public-read" })] },
      {
        label: "an ACL granting AllUsers",
        resources: [
          resource(BUCKET_ACL, "assets-acl", {
            bucket: "assets-bucket",
            accessControlPolicy: {
              owner: { id: "owner" },
              grants: [
                {
                  permission: "READ",
                  grantee: {
                    type: "Group",
                    uri: "http://acs.amazonaws.com/groups/global/AllUsers",
                  },
                },
              ],
            },
          }),
        ],
      },
      {
        label: "a policy allowing everyone to read",
        resources: [
          bucketPolicy({
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: "arn:aws:s3:::assets-bucket/*",
          }),
        ],
      },
      {
        label: "preview: an AllUsers grant next to a grant whose user id is unknown",
        resources: [
          bucket("assets", {
            grants: [
              { type: "CanonicalUser", id: UNKNOWN_IN_PREVIEW, permissions: ["FULL_CONTROL"] },
              {
                type: "Group",
                uri: "http://acs.amazonaws.com/groups/global/AllUsers",
                permissions: ["READ"],
              },
            ],
          }),
        ],
      },
    ],
    good: [
      {
        label: "CloudFront reading through origin access control",
        resources: [
          bucketPolicy({
            Effect: "Allow",
            Principal: { Service: "cloudfront.amazonaws.com" },
            Action: "s3:GetObject",
            Resource: "arn:aws:s3:::assets-bucket/*",
            Condition: {
              StringEquals: { "AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1" },
            },
          }),
        ],
      },
      {
        label: "a deny for insecure transport",
        resources: [
          bucketPolicy({
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: "*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ],
      },
      {
        label: "everyone, but only through a VPC endpoint",
        resources: [
          bucketPolicy({
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "s3:GetObject",
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceVpce": "vpce-1" } },
          }),
        ],
      },
      {
        label: "preview: the policy is unknown",
        resources: [
          resource(BUCKET_POLICY, "assets-policy", {
            bucket: "assets-bucket",
            policy: UNKNOWN_IN_PREVIEW,
          }),
        ],
      },
    ],
  },
  {
    policy: "security-group-no-world-ingress",
    bad: [
      {
        label: "SSH from anywhere",
        resources: [ingress("app-ssh", { cidrIpv4: "0.0.0.0/0", fromPort: 22, toPort: 22 })],
      },
      {
        label: "the database port from every IPv6 address",
        resources: [ingress("db-v6", { cidrIpv6: "::/0", fromPort: 5432, toPort: 5432 })],
      },
      {
        label: "443 from anywhere on a group that is no load balancer's",
        resources: [
          alb(),
          ingress("app-https", { cidrIpv4: "0.0.0.0/0", fromPort: 443, toPort: 443 }),
        ],
        offender: "app-https",
      },
      {
        label: "80-443 from anywhere, even on the load balancer",
        resources: [
          alb(),
          ingress("alb-range", {
            securityGroupId: "sg-alb",
            cidrIpv4: "0.0.0.0/0",
            fromPort: 80,
            toPort: 443,
          }),
        ],
        offender: "alb-range",
      },
      {
        label: "every protocol from anywhere",
        resources: [ingress("app-all", { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" })],
      },
      {
        label: "an inline rule opening SSH",
        resources: [
          resource(SECURITY_GROUP, "bastion", {
            ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
          }),
        ],
      },
      {
        label: "preview: inline SSH from anywhere next to a rule whose source group is unknown",
        resources: [
          resource(SECURITY_GROUP, "bastion", {
            ingress: [
              {
                protocol: "tcp",
                fromPort: 3000,
                toPort: 3000,
                securityGroups: [UNKNOWN_IN_PREVIEW],
              },
              { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] },
            ],
          }),
        ],
      },
    ],
    good: [
      {
        label: "443 from anywhere on the load balancer's group",
        resources: [
          alb(),
          ingress("alb-https", {
            securityGroupId: "sg-alb",
            cidrIpv4: "0.0.0.0/0",
            fromPort: 443,
            toPort: 443,
          }),
        ],
      },
      {
        label: "the database port from the VPC",
        resources: [ingress("db-vpc", { cidrIpv4: "10.20.0.0/16", fromPort: 5432, toPort: 5432 })],
      },
      {
        label: "the app port from the load balancer's group",
        resources: [
          ingress("app-from-alb", {
            referencedSecurityGroupId: "sg-alb",
            fromPort: 3000,
            toPort: 3000,
          }),
        ],
      },
      {
        label: "an inline 443 rule on the load balancer's group",
        resources: [
          alb(),
          resource(
            SECURITY_GROUP,
            "alb-sg",
            {
              ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
            },
            {
              outputs: {
                id: "sg-alb",
                ingress: [
                  { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
                ],
              },
            },
          ),
        ],
      },
      {
        label:
          "preview: the rule's group and the load balancer's groups are unknown but are the same resource",
        resources: [
          alb({ securityGroups: UNKNOWN_IN_PREVIEW }),
          ingress("alb-https", {
            securityGroupId: UNKNOWN_IN_PREVIEW,
            cidrIpv4: "0.0.0.0/0",
            fromPort: 443,
            toPort: 443,
          }),
          resource(SECURITY_GROUP, "alb-sg", {}),
        ].map((r) =>
          r.name === "web-alb"
            ? { ...r, propertyDependencies: { securityGroups: [urnOf(SECURITY_GROUP, "alb-sg")] } }
            : r.name === "alb-https"
              ? {
                  ...r,
                  propertyDependencies: { securityGroupId: [urnOf(SECURITY_GROUP, "alb-sg")] },
                }
              : r,
        ),
      },
    ],
  },
  {
    policy: "alb-drops-invalid-headers",
    bad: [{ label: "an ALB that forwards invalid headers", resources: [alb()] }],
    good: [
      { label: "an ALB that drops them", resources: [alb({ dropInvalidHeaderFields: true })] },
      { label: "a network load balancer", resources: [alb({ loadBalancerType: "network" })] },
    ],
  },
  {
    policy: "lb-listener-modern-tls",
    bad: [
      {
        label: "HTTPS on the default policy",
        resources: [listener("web-https", { protocol: "HTTPS", defaultActions: FORWARD })],
      },
      {
        label: "HTTPS allowing TLS 1.0",
        resources: [
          listener("web-https", {
            protocol: "HTTPS",
            sslPolicy: "ELBSecurityPolicy-2016-08",
            defaultActions: FORWARD,
          }),
        ],
      },
    ],
    good: [
      { label: "HTTPS with TLS 1.2+", resources: [httpsListener] },
      {
        label: "an HTTP listener (another rule's business)",
        resources: [listener("web-http", { protocol: "HTTP", defaultActions: FORWARD })],
      },
    ],
  },
  {
    policy: "lb-http-redirects-to-https",
    bad: [
      {
        label: "HTTP forwarding next to an HTTPS listener",
        resources: [
          listener("web-http", { protocol: "HTTP", port: 80, defaultActions: FORWARD }),
          httpsListener,
        ],
      },
      {
        label: "HTTP forwarding in a region with a certificate",
        resources: [
          listener("web-http", { protocol: "HTTP", port: 80, defaultActions: FORWARD }),
          certificate("us-east-1"),
        ],
      },
      {
        label:
          "preview: HTTP forwarding to an unknown target group, next to HTTPS on the same new load balancer",
        resources: [
          listener(
            "web-http",
            {
              protocol: "HTTP",
              port: 80,
              loadBalancerArn: UNKNOWN_IN_PREVIEW,
              defaultActions: [{ type: "forward", targetGroupArn: UNKNOWN_IN_PREVIEW }],
            },
            { propertyDependencies: { loadBalancerArn: [urnOf(LOAD_BALANCER, "web-alb")] } },
          ),
          listener(
            "web-https",
            {
              protocol: "HTTPS",
              port: 443,
              loadBalancerArn: UNKNOWN_IN_PREVIEW,
              defaultActions: FORWARD,
            },
            { propertyDependencies: { loadBalancerArn: [urnOf(LOAD_BALANCER, "web-alb")] } },
          ),
          alb(),
        ],
      },
    ],
    good: [
      {
        label: "HTTP redirecting to HTTPS",
        resources: [
          listener("web-http", { protocol: "HTTP", port: 80, defaultActions: REDIRECT }),
          httpsListener,
        ],
      },
      {
        label: "HTTP forwarding with no certificate anywhere",
        resources: [listener("web-http", { protocol: "HTTP", port: 80, defaultActions: FORWARD })],
      },
      {
        label: "HTTP forwarding when the only certificate is in another region",
        resources: [
          listener("web-http", { protocol: "HTTP", port: 80, defaultActions: FORWARD }),
          certificate("eu-west-1"),
        ],
      },
    ],
  },
  {
    policy: "lb-http-without-tls",
    bad: [
      {
        label: "HTTP forwarding with no certificate",
        resources: [listener("web-http", { protocol: "HTTP", port: 80, defaultActions: FORWARD })],
      },
      {
        label: "preview: a listener that leaves its protocol (computed, HTTP) unset",
        resources: [
          listener(
            "web-http",
            { port: 80, defaultActions: FORWARD },
            {
              outputs: {
                protocol: UNKNOWN_IN_PREVIEW,
                loadBalancerArn: ALB_ARN,
                defaultActions: FORWARD,
              },
            },
          ),
        ],
      },
    ],
    good: [
      {
        label: "HTTP redirecting",
        resources: [
          listener("web-http", { protocol: "HTTP", port: 80, defaultActions: REDIRECT }),
          httpsListener,
        ],
      },
      {
        label: "preview: the default actions are unknown",
        resources: [
          listener("web-http", { protocol: "HTTP", port: 80, defaultActions: UNKNOWN_IN_PREVIEW }),
        ],
      },
    ],
  },
  {
    policy: "web-acl-on-public-edge",
    bad: [
      { label: "an internet-facing ALB with no web ACL", resources: [deployedAlb()] },
      {
        label: "an ALB that never says internal, with no web ACL",
        resources: [resource(LOAD_BALANCER, "web-alb", { loadBalancerType: "application" })],
      },
      {
        label: "an ALB whose only association names another load balancer",
        resources: [
          deployedAlb(),
          association(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/2",
          ),
        ],
      },
      {
        label: "a distribution without webAclId",
        resources: [distribution()],
      },
      {
        label: "dev: a distribution with an empty webAclId (count mode is fine; no ACL is not)",
        environment: "dev",
        resources: [distribution({ webAclId: "" })],
      },
    ],
    good: [
      {
        label: "an ALB associated by its ARN",
        resources: [deployedAlb(), association(ALB_ARN)],
      },
      { label: "an internal ALB", resources: [deployedAlb({ internal: true })] },
      {
        label: "a network load balancer",
        resources: [deployedAlb({ loadBalancerType: "network" })],
      },
      {
        label: "a distribution with a CLOUDFRONT web ACL's ARN",
        resources: [distribution({ webAclId: CDN_WEB_ACL_ARN })],
      },
      {
        label:
          "preview: the association's resourceArn and the ALB's ARN are unknown, but it was set from the ALB",
        resources: [
          resource(LOAD_BALANCER, "web-alb", {
            loadBalancerType: "application",
            internal: false,
            arn: UNKNOWN_IN_PREVIEW,
          }),
          association(UNKNOWN_IN_PREVIEW, {
            propertyDependencies: { resourceArn: [urnOf(LOAD_BALANCER, "web-alb")] },
          }),
        ],
      },
      {
        label: "preview: the distribution's webAclId comes from an ACL not created yet",
        resources: [
          resource(WEB_ACL, "assets-waf-acl", { scope: "CLOUDFRONT" }),
          {
            ...distribution({ webAclId: UNKNOWN_IN_PREVIEW }),
            propertyDependencies: { webAclId: [urnOf(WEB_ACL, "assets-waf-acl")] },
          },
        ],
      },
      {
        label: "localstack: the emulator builds no web ACLs",
        environment: "localstack",
        resources: [deployedAlb(), distribution()],
      },
    ],
  },
  {
    policy: "cloudfront-https-only",
    bad: [
      {
        label: "viewers allowed on plain HTTP",
        resources: [
          distribution({
            defaultCacheBehavior: { targetOriginId: "s3", viewerProtocolPolicy: "allow-all" },
          }),
        ],
      },
      {
        label: "one path allowed on plain HTTP",
        resources: [
          distribution({
            orderedCacheBehaviors: [
              { pathPattern: "/legacy/*", targetOriginId: "s3", viewerProtocolPolicy: "allow-all" },
            ],
          }),
        ],
      },
      {
        label: "a custom certificate accepting TLS 1.0",
        resources: [
          distribution({
            viewerCertificate: {
              acmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/1",
              sslSupportMethod: "sni-only",
              minimumProtocolVersion: "TLSv1",
            },
          }),
        ],
      },
      {
        label: "a custom origin fetched over HTTP",
        resources: [
          distribution({
            origins: [
              {
                originId: "api",
                domainName: "api.example.com",
                customOriginConfig: {
                  originProtocolPolicy: "http-only",
                  httpPort: 80,
                  httpsPort: 443,
                  originSslProtocols: ["TLSv1.2"],
                },
              },
            ],
          }),
        ],
      },
      {
        label:
          "preview: a new certificate (unknown ARN) accepting TLS 1.0, and an HTTP origin with an unknown domain",
        resources: [
          distribution({
            viewerCertificate: {
              acmCertificateArn: UNKNOWN_IN_PREVIEW,
              sslSupportMethod: "sni-only",
              minimumProtocolVersion: "TLSv1",
            },
            origins: [
              {
                originId: "api",
                domainName: UNKNOWN_IN_PREVIEW,
                customOriginConfig: {
                  originProtocolPolicy: "http-only",
                  httpPort: 80,
                  httpsPort: 443,
                  originSslProtocols: ["TLSv1.2"],
                },
              },
            ],
          }),
        ],
      },
    ],
    good: [
      { label: "redirect to HTTPS with the default certificate", resources: [distribution()] },
      {
        label: "a custom certificate on TLS 1.2",
        resources: [
          distribution({
            viewerCertificate: {
              acmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/1",
              sslSupportMethod: "sni-only",
              minimumProtocolVersion: "TLSv1.2_2021",
            },
          }),
        ],
      },
    ],
  },
  {
    policy: "ecs-no-public-ip",
    bad: [
      {
        label: "tasks with public IPs",
        resources: [
          resource(SERVICE, "web", {
            networkConfiguration: { subnets: ["subnet-1"], assignPublicIp: true },
          }),
        ],
      },
    ],
    good: [
      {
        label: "tasks without",
        resources: [
          resource(SERVICE, "web", {
            networkConfiguration: { subnets: ["subnet-1"], assignPublicIp: false },
          }),
        ],
      },
    ],
  },
  {
    policy: "ecs-task-logging",
    bad: [
      {
        label: "a sidecar without logging",
        resources: [containers([{ name: "web", logConfiguration: AWSLOGS }, { name: "sidecar" }])],
      },
      {
        label: "definitions that are no JSON array",
        resources: [resource(TASK, "web-task", { containerDefinitions: "{not json" })],
      },
    ],
    good: [
      {
        label: "every container logging",
        resources: [containers([{ name: "web", logConfiguration: AWSLOGS }])],
      },
      {
        label: "preview: definitions unknown",
        resources: [resource(TASK, "web-task", { containerDefinitions: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "iam-no-star-on-star",
    bad: [
      {
        label: "a role policy allowing * on *",
        resources: [
          resource(ROLE_POLICY, "web-task", { role: "web", policy: document(STAR_ON_STAR) }),
        ],
      },
      {
        label: "a managed policy allowing *:* on *",
        resources: [
          resource(IAM_POLICY, "ops", { policy: document({ ...STAR_ON_STAR, Action: ["*:*"] }) }),
        ],
      },
      {
        label: "an inline role policy allowing * on *",
        resources: [
          resource(ROLE, "web", {
            assumeRolePolicy: "{}",
            inlinePolicies: [{ name: "all", policy: document(STAR_ON_STAR) }],
          }),
        ],
      },
      {
        label: "a role with AdministratorAccess",
        resources: [
          resource(ROLE, "web", {
            assumeRolePolicy: "{}",
            managedPolicyArns: [ADMINISTRATOR_ACCESS],
          }),
        ],
      },
      {
        label: "an AdministratorAccess attachment",
        resources: [
          resource(ATTACHMENT, "web-admin", { role: "web", policyArn: ADMINISTRATOR_ACCESS }),
        ],
      },
      {
        label: "preview: AdministratorAccess next to a new policy's unknown ARN",
        resources: [
          resource(ROLE, "web", {
            assumeRolePolicy: "{}",
            managedPolicyArns: [UNKNOWN_IN_PREVIEW, ADMINISTRATOR_ACCESS],
          }),
        ],
      },
    ],
    good: [
      {
        label: "sending to one queue",
        resources: [
          resource(ROLE_POLICY, "web-task", {
            role: "web",
            policy: document({
              Effect: "Allow",
              Action: "sqs:SendMessage",
              Resource: queueArn("jobs"),
            }),
          }),
        ],
      },
      {
        label: "a deny of * on *",
        resources: [
          resource(ROLE_POLICY, "guard", {
            role: "web",
            policy: document({ ...STAR_ON_STAR, Effect: "Deny" }),
          }),
        ],
      },
      {
        label: "preview: the policy is unknown",
        resources: [resource(ROLE_POLICY, "web-task", { role: "web", policy: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "log-group-retention",
    bad: [
      { label: "a log group kept forever", resources: [resource(LOG_GROUP, "web-logs", {})] },
      {
        label: "retention 0",
        resources: [resource(LOG_GROUP, "web-logs", { retentionInDays: 0 })],
      },
    ],
    good: [
      { label: "30 days", resources: [resource(LOG_GROUP, "web-logs", { retentionInDays: 30 })] },
    ],
  },
  {
    policy: "alarm-has-action",
    bad: [
      {
        label: "an alarm with no action",
        resources: [resource(ALARM, "web-5xx", { alarmActions: [] })],
      },
      {
        label: "an alarm with actions disabled",
        resources: [resource(ALARM, "web-5xx", { alarmActions: [TOPIC], actionsEnabled: false })],
      },
    ],
    good: [
      {
        label: "an alarm to the topic",
        resources: [resource(ALARM, "web-5xx", { alarmActions: [TOPIC] })],
      },
      {
        label: "preview: the topic's ARN is unknown",
        resources: [resource(ALARM, "web-5xx", { alarmActions: [UNKNOWN_IN_PREVIEW] })],
      },
    ],
  },
  {
    policy: "kms-key-rotation",
    bad: [
      {
        label: "a KMS key without rotation",
        resources: [resource(KMS_KEY, "db-key", { description: "db" })],
      },
      {
        label: "a symmetric key with rotation off",
        resources: [
          resource(KMS_KEY, "db-key", {
            customerMasterKeySpec: "SYMMETRIC_DEFAULT",
            keyUsage: "ENCRYPT_DECRYPT",
            enableKeyRotation: false,
          }),
        ],
      },
    ],
    good: [
      {
        label: "a rotated KMS key",
        resources: [resource(KMS_KEY, "db-key", { description: "db", enableKeyRotation: true })],
      },
      {
        label: "an asymmetric signing key (KMS cannot rotate it)",
        resources: [
          resource(KMS_KEY, "signing-key", {
            customerMasterKeySpec: "ECC_NIST_P256",
            keyUsage: "SIGN_VERIFY",
          }),
        ],
      },
      {
        label: "preview: rotation set from an unknown value",
        resources: [resource(KMS_KEY, "db-key", { enableKeyRotation: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "kms-key-explicit-policy",
    bad: [
      {
        label: "a key with KMS's default policy",
        resources: [resource(KMS_KEY, "db-key", { enableKeyRotation: true })],
      },
      {
        label: "a key open to everyone",
        resources: [
          resource(KMS_KEY, "db-key", {
            policy: keyPolicy({ Principal: "*", Action: "kms:Decrypt" }),
          }),
        ],
      },
      {
        label: "a key CloudWatch Logs may use for any account's log groups",
        resources: [
          resource(KMS_KEY, "logs-key", {
            policy: keyPolicy({
              Principal: { Service: "logs.us-east-1.amazonaws.com" },
              Action: "kms:GenerateDataKey*",
            }),
          }),
        ],
      },
    ],
    good: [
      {
        label: "a key for this account's log groups only",
        resources: [
          resource(KMS_KEY, "logs-key", {
            policy: keyPolicy({
              Principal: { Service: "logs.us-east-1.amazonaws.com" },
              Action: "kms:GenerateDataKey*",
              Condition: {
                ArnLike: {
                  "kms:EncryptionContext:aws:logs:arn":
                    "arn:aws:logs:us-east-1:123456789012:log-group:*",
                },
              },
            }),
          }),
        ],
      },
      {
        label: "preview: a policy built from unknown ARNs",
        resources: [resource(KMS_KEY, "db-key", { policy: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "log-group-customer-key",
    bad: [
      {
        label: "a log group under CloudWatch Logs' own key",
        resources: [resource(LOG_GROUP, "web-logs", { retentionInDays: 30 })],
      },
    ],
    good: [
      {
        label: "a log group under the region's logs key",
        resources: [
          resource(LOG_GROUP, "web-logs", {
            retentionInDays: 30,
            kmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/logs",
          }),
        ],
      },
      {
        label: "preview: the key's ARN unknown",
        resources: [resource(LOG_GROUP, "web-logs", { kmsKeyId: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "cloudfront-security-headers",
    bad: [
      { label: "a distribution without a response headers policy", resources: [distribution()] },
      {
        label: "a headers policy without HSTS and frame options",
        resources: [
          resource(HEADERS_POLICY, "assets-headers", {
            securityHeadersConfig: {
              contentTypeOptions: { override: true },
              referrerPolicy: { referrerPolicy: "no-referrer", override: true },
            },
          }),
        ],
      },
    ],
    good: [
      {
        label: "a distribution answering through a complete headers policy",
        resources: [
          distribution({
            defaultCacheBehavior: {
              targetOriginId: "s3",
              viewerProtocolPolicy: "redirect-to-https",
              responseHeadersPolicyId: "headers-1",
            },
          }),
          resource(HEADERS_POLICY, "assets-headers", {
            securityHeadersConfig: {
              strictTransportSecurity: { accessControlMaxAgeSec: 31536000, override: true },
              contentTypeOptions: { override: true },
              frameOptions: { frameOption: "DENY", override: true },
              referrerPolicy: { referrerPolicy: "no-referrer", override: true },
            },
          }),
        ],
      },
      {
        label: "preview: the headers policy's id unknown",
        resources: [
          distribution({
            defaultCacheBehavior: {
              targetOriginId: "s3",
              viewerProtocolPolicy: "redirect-to-https",
              responseHeadersPolicyId: UNKNOWN_IN_PREVIEW,
            },
          }),
        ],
      },
    ],
  },
  {
    policy: "cloudfront-access-logs",
    bad: [
      { label: "a distribution whose access logs go nowhere", resources: [loggedDistribution()] },
      {
        label: "a delivery source nothing delivers",
        resources: [loggedDistribution(), deliverySource(DISTRIBUTION_ARN)],
      },
    ],
    good: [
      {
        label: "a distribution delivered through standard logging v2",
        resources: [loggedDistribution(), deliverySource(DISTRIBUTION_ARN), delivery],
      },
      {
        label: "a distribution with legacy logging to S3",
        resources: [distribution({ loggingConfig: { bucket: "logs.s3.amazonaws.com" } })],
      },
      {
        label: "the emulator stack, which skips edge logs",
        resources: [loggedDistribution()],
        environment: "localstack",
      },
    ],
  },
  {
    policy: "route53-query-logs",
    bad: [{ label: "a zone whose queries are not logged", resources: [zone()] }],
    good: [
      {
        label: "a zone with a query log",
        resources: [
          zone(),
          resource(QUERY_LOG, "edge-logs-dns", {
            zoneId: ZONE_ID,
            cloudwatchLogGroupArn: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/route53/x",
          }),
        ],
      },
      {
        label: "preview: a query log on a zone id unknown",
        resources: [
          resource(
            ZONE,
            "zone-zone",
            { name: "example.com" },
            { outputs: { zoneId: UNKNOWN_IN_PREVIEW } },
          ),
          resource(
            QUERY_LOG,
            "edge-logs-dns",
            { zoneId: UNKNOWN_IN_PREVIEW },
            { propertyDependencies: { zoneId: [urnOf(ZONE, "zone-zone")] } },
          ),
        ],
      },
    ],
  },
  {
    policy: "route53-zone-dnssec",
    bad: [
      { label: "an unsigned zone", resources: [zone()] },
      {
        label: "an unsigned zone whose dnssec tag says anything but off",
        resources: [
          resource(
            ZONE,
            "zone-zone",
            { name: "example.com", tags: { dnssec: "signing" } },
            { outputs: { name: "example.com", zoneId: ZONE_ID, tags: { dnssec: "signing" } } },
          ),
        ],
      },
      {
        label: "a zone whose signing is turned off",
        resources: [
          zone(),
          resource(ZONE_DNSSEC, "zone-dnssec-signing", {
            hostedZoneId: ZONE_ID,
            signingStatus: "NOT_SIGNING",
          }),
        ],
      },
    ],
    good: [
      {
        label: "a signed zone",
        resources: [
          zone(),
          resource(ZONE_DNSSEC, "zone-dnssec-signing", {
            hostedZoneId: ZONE_ID,
            signingStatus: "SIGNING",
          }),
        ],
      },
      {
        label: "a private zone (DNSSEC signs public zones only)",
        resources: [resource(ZONE, "internal", { name: "internal.", vpcs: [{ vpcId: "vpc-1" }] })],
      },
      {
        label: "a zone its stack declares unsigned (dns.dnssec off: tagged dnssec=off)",
        resources: [
          resource(
            ZONE,
            "zone-zone",
            { name: "example.com", tags: { Tier: "dns", dnssec: "off" } },
            {
              outputs: {
                name: "example.com",
                zoneId: ZONE_ID,
                tags: { Tier: "dns", dnssec: "off" },
              },
            },
          ),
        ],
      },
    ],
  },
  {
    policy: "s3-prod-server-access-logs",
    bad: [
      {
        label: "a prod assets bucket without server access logs",
        resources: [bucket("assets")],
      },
      {
        label: "a log bucket logging into itself",
        resources: [
          bucket("logs"),
          bucket("assets"),
          loggingOf("assets", "logs"),
          loggingOf("logs", "logs"),
        ],
        offender: "logs",
      },
    ],
    good: [
      {
        label: "an assets bucket logging into the region's log bucket, which logs nowhere",
        resources: [bucket("assets"), bucket("logs"), loggingOf("assets", "logs")],
      },
      {
        label: "an ELB log bucket (its policy lets a log-delivery service write)",
        resources: [
          bucket("alb-logs"),
          resource(BUCKET_POLICY, "alb-logs-delivery", {
            bucket: "alb-logs-bucket",
            policy: document({
              Effect: "Allow",
              Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: "arn:aws:s3:::alb-logs-bucket/alb/*",
            }),
          }),
        ],
      },
      {
        label: "a dev bucket without them",
        resources: [bucket("assets")],
        environment: "dev",
      },
    ],
  },
  {
    policy: "ecr-customer-key",
    bad: [
      {
        label: "a repository under AES256",
        resources: [
          resource(REPOSITORY, "app-primary-repository", {
            encryptionConfigurations: [{ encryptionType: "AES256" }],
          }),
        ],
      },
      {
        label: "a repository with no encryption setting",
        resources: [resource(REPOSITORY, "app-primary-repository", {})],
      },
    ],
    good: [
      {
        label: "a repository under the account's key",
        resources: [
          resource(REPOSITORY, "app-primary-repository", {
            encryptionConfigurations: [
              { encryptionType: "KMS", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/ecr" },
            ],
          }),
        ],
      },
      {
        label: "preview: the key's ARN unknown",
        resources: [
          resource(REPOSITORY, "app-primary-repository", {
            encryptionConfigurations: UNKNOWN_IN_PREVIEW,
          }),
        ],
      },
    ],
  },
  {
    policy: "s3-customer-key",
    bad: [
      {
        label: "an assets bucket under SSE-S3",
        resources: [bucket("assets"), ...guards("assets")],
      },
    ],
    good: [
      {
        label: "an assets bucket under the account's key",
        resources: [
          bucket("assets"),
          resource(ENCRYPTION, "assets-encryption", {
            bucket: "assets-bucket",
            rules: [
              {
                applyServerSideEncryptionByDefault: {
                  sseAlgorithm: "aws:kms",
                  kmsMasterKeyId: "arn:aws:kms:us-east-1:123456789012:key/assets",
                },
                bucketKeyEnabled: true,
              },
            ],
          }),
        ],
      },
      {
        label: "a log bucket under SSE-S3 (log delivery needs it)",
        resources: [
          bucket("alb-logs"),
          ...guards("alb-logs"),
          resource(BUCKET_POLICY, "alb-logs-delivery", {
            bucket: "alb-logs-bucket",
            policy: document({
              Effect: "Allow",
              Principal: { Service: "logging.s3.amazonaws.com" },
              Action: "s3:PutObject",
              Resource: "arn:aws:s3:::alb-logs-bucket/s3/*",
            }),
          }),
        ],
      },
    ],
  },
  {
    policy: "no-authoritative-inline-lists",
    bad: [
      {
        label: "a route table with an inline route (peering routes beside it vanish on refresh)",
        resources: [
          resource(ROUTE_TABLE, "private-rt", {
            vpcId: "vpc-1",
            routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: "nat-1" }],
          }),
        ],
      },
      {
        label: "a route table with an explicit empty routes list",
        resources: [resource(ROUTE_TABLE, "isolated-rt", { vpcId: "vpc-1", routes: [] })],
      },
      {
        label: "preview: inline routes to a NAT gateway whose id is unknown",
        resources: [resource(ROUTE_TABLE, "private-rt", { routes: UNKNOWN_IN_PREVIEW })],
      },
      {
        label: "a security group with inline ingress",
        resources: [
          resource(SECURITY_GROUP, "db-sg", {
            ingress: [
              { protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.0.0.0/16"] },
            ],
          }),
        ],
      },
      {
        label: "a security group with inline egress",
        resources: [resource(SECURITY_GROUP, "db-sg", { egress: [] })],
      },
      {
        label: "a network ACL with inline rules",
        resources: [resource(NETWORK_ACL, "isolated-acl", { ingress: [{ ruleNo: 100 }] })],
      },
      {
        label: "a gateway endpoint with inline route tables",
        resources: [resource(VPC_ENDPOINT, "s3", { routeTableIds: ["rtb-1"] })],
      },
      {
        label: "a role with inline policies",
        resources: [
          resource(ROLE, "task-role", {
            inlinePolicies: [{ name: "s3", policy: document({ Effect: "Allow" }) }],
          }),
        ],
      },
      {
        label: "a role with managedPolicyArns",
        resources: [resource(ROLE, "task-role", { managedPolicyArns: [ADMINISTRATOR_ACCESS] })],
      },
    ],
    good: [
      { label: "a route table without routes", resources: [resource(ROUTE_TABLE, "rt", {})] },
      {
        label: "a security group without inline rules",
        resources: [resource(SECURITY_GROUP, "sg", {})],
      },
      {
        label: "the default security group adopted with no rules (a lock, managed whole)",
        resources: [resource(DEFAULT_SECURITY_GROUP, "default-sg", { ingress: [], egress: [] })],
      },
      {
        label: "a gateway endpoint without route tables",
        resources: [resource(VPC_ENDPOINT, "s3", { vpcEndpointType: "Gateway" })],
      },
    ],
  },
  {
    policy: "route53-record-one-owner",
    bad: [
      {
        label: "two regions' certificates each writing the same validation CNAME",
        resources: [
          resource(RECORD, "primary-cert-validation", {
            zoneId: "Z1",
            name: "_abc.app.example.com.",
            type: "CNAME",
          }),
          resource(RECORD, "secondary-cert-validation", {
            zoneId: "Z1",
            name: "_abc.app.example.com",
            type: "CNAME",
          }),
        ],
      },
    ],
    good: [
      {
        label: "one validation record",
        resources: [
          resource(RECORD, "cert-validation", {
            zoneId: "Z1",
            name: "_abc.app.example.com",
            type: "CNAME",
          }),
        ],
      },
      {
        label: "geolocation records of one name with distinct set identifiers",
        resources: [
          resource(RECORD, "app-primary", {
            zoneId: "Z1",
            name: "app.example.com",
            type: "A",
            setIdentifier: "primary",
          }),
          resource(RECORD, "app-secondary", {
            zoneId: "Z1",
            name: "app.example.com",
            type: "A",
            setIdentifier: "secondary",
          }),
        ],
      },
      {
        label: "the same name as A and AAAA",
        resources: [
          resource(RECORD, "cdn-a", { zoneId: "Z1", name: "static.example.com", type: "A" }),
          resource(RECORD, "cdn-aaaa", { zoneId: "Z1", name: "static.example.com", type: "AAAA" }),
        ],
      },
      {
        label: "preview: names from certificates not issued yet",
        resources: [
          resource(RECORD, "primary-cert-validation", {
            zoneId: "Z1",
            name: UNKNOWN_IN_PREVIEW,
            type: "CNAME",
          }),
          resource(RECORD, "secondary-cert-validation", {
            zoneId: "Z1",
            name: UNKNOWN_IN_PREVIEW,
            type: "CNAME",
          }),
        ],
      },
    ],
  },
  {
    policy: "physical-names-scoped",
    bad: [
      {
        label: "a KMS alias of <stack>-<name> (two projects' prod stacks collide)",
        resources: [
          resource(KMS_ALIAS, "primary-database-key", { name: "alias/test-primary-database" }),
        ],
      },
      {
        label: "a cache replication group id without the project",
        resources: [cache({ replicationGroupId: "test-primary-cache" })],
      },
      {
        label: "a queue named for the project but not the stack",
        resources: [queue("jobs", { name: "zero-to-millions-jobs" })],
      },
      {
        label: "a writer's final snapshot without the project",
        resources: [writer({ finalSnapshotIdentifier: "test-primary-database-final-1a2b3c4d" })],
      },
    ],
    good: [
      {
        label: "an alias of <project>-<stack>-<name>",
        resources: [
          resource(KMS_ALIAS, "primary-database-key", {
            name: "alias/zero-to-millions-test-primary-database",
          }),
        ],
      },
      {
        label: "a cache group id shortened with a hash, keeping project and stack",
        resources: [cache({ replicationGroupId: "zero-to-millions-test-second-1a2b3c4d" })],
      },
      {
        label: "a name left to Pulumi's autonaming",
        resources: [queue("jobs", { name: "jobs-4f9c2e1" })],
      },
      {
        label: "preview: a name built from an unknown output",
        resources: [resource(KMS_ALIAS, "key", { name: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "iam-s3-read-with-list",
    bad: [
      {
        label:
          "a task role that reads uploads/ but cannot list the bucket (missing keys answer 403)",
        resources: [
          resource(ROLE_POLICY, "web-assets", {
            policy: document({
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:PutObject"],
              Resource: ["arn:aws:s3:::assets-bucket/uploads/*"],
            }),
          }),
        ],
      },
      {
        label: "a list grant on another bucket",
        resources: [
          resource(ROLE_POLICY, "web-assets", {
            policy: JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: "s3:GetObject",
                  Resource: "arn:aws:s3:::assets-bucket/*",
                },
                { Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::other-bucket" },
              ],
            }),
          }),
        ],
      },
    ],
    good: [
      {
        label: "reads with s3:ListBucket on the bucket",
        resources: [
          resource(ROLE_POLICY, "web-assets", {
            policy: JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: "s3:GetObject",
                  Resource: "arn:aws:s3:::assets-bucket/uploads/*",
                },
                {
                  Effect: "Allow",
                  Action: "s3:ListBucket",
                  Resource: "arn:aws:s3:::assets-bucket",
                },
              ],
            }),
          }),
        ],
      },
      {
        label: "writes only (nothing is read)",
        resources: [
          resource(ROLE_POLICY, "uploader", {
            policy: document({
              Effect: "Allow",
              Action: "s3:PutObject",
              Resource: "arn:aws:s3:::assets-bucket/*",
            }),
          }),
        ],
      },
      {
        label: "preview: the bucket's ARN is unknown",
        resources: [resource(ROLE_POLICY, "web-assets", { policy: UNKNOWN_IN_PREVIEW })],
      },
    ],
  },
  {
    policy: "rds-log-groups-managed",
    bad: [
      {
        label:
          "a writer exporting postgresql logs with no log group of its own (RDS keeps them forever)",
        resources: [
          writer({
            identifier: "zero-to-millions-test-db-writer",
            enabledCloudwatchLogsExports: ["postgresql"],
          }),
        ],
      },
      {
        label: "an autonamed writer exporting logs (no group can be created first)",
        resources: [writer({ enabledCloudwatchLogsExports: ["postgresql"] })],
      },
      {
        label: "a writer with the postgresql group but not the upgrade one",
        resources: [
          writer({
            identifier: "db-1",
            enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
          }),
          resource(LOG_GROUP, "db-1-postgresql", {
            name: "/aws/rds/instance/db-1/postgresql",
            retentionInDays: 30,
          }),
        ],
      },
    ],
    good: [
      {
        label: "a writer whose exported logs each have a group",
        resources: [
          writer({ identifier: "db-1", enabledCloudwatchLogsExports: ["postgresql", "upgrade"] }),
          ...["postgresql", "upgrade"].map((log) =>
            resource(LOG_GROUP, `db-1-${log}`, {
              name: `/aws/rds/instance/db-1/${log}`,
              retentionInDays: 30,
            }),
          ),
        ],
      },
      { label: "a writer that exports nothing", resources: [writer()] },
    ],
  },
  {
    policy: "alb-prod-access-logs",
    bad: [
      { label: "a prod ALB without access logs", resources: [alb()] },
      {
        label: "a prod ALB with access logs disabled",
        resources: [alb({ accessLogs: { bucket: "logs", enabled: false } })],
      },
    ],
    good: [
      {
        label: "a prod ALB logging to a bucket",
        resources: [alb({ accessLogs: { bucket: "logs", prefix: "alb", enabled: true } })],
      },
      { label: "a dev ALB without access logs", resources: [alb()], environment: "dev" },
      {
        label: "preview: the bucket's name is unknown",
        resources: [alb({ accessLogs: { bucket: UNKNOWN_IN_PREVIEW, enabled: true } })],
      },
    ],
  },
  {
    policy: "rds-prod-enhanced-monitoring",
    bad: [
      { label: "a prod writer without Enhanced Monitoring", resources: [writer()] },
      {
        label: "a prod replica with an interval but no role",
        resources: [replica({ monitoringInterval: 60 })],
      },
    ],
    good: [
      {
        label: "a prod writer reporting every 60 s through its role",
        resources: [
          writer({
            monitoringInterval: 60,
            monitoringRoleArn: "arn:aws:iam::123456789012:role/db-monitoring",
          }),
        ],
      },
      { label: "a dev writer without it", resources: [writer()], environment: "dev" },
    ],
  },
];

const policyNamed = (name: string) => {
  const policy = policies.find((candidate) => candidate.name === name);
  if (!policy) throw new Error(`no policy named ${name} in policy/policies.ts`);
  return policy;
};

async function violationsOf(name: string, world: World) {
  const found = await runPolicies([policyNamed(name)], world.resources, {
    config: packConfig(world.environment ?? "prod"),
  });
  return found.filter((violation) => violation.policy === name);
}

describe("policy pack: the program's declared intents", () => {
  it("GIVEN dns.dnssec off THEN the tag the zone gets is the one route53-zone-dnssec accepts", () => {
    assert.deepEqual(DNSSEC_OFF_TAG, PROGRAM_DNSSEC_OFF_TAG);
  });
});

describe("policy pack: every rule has a failing fixture", () => {
  it("GIVEN the pack's rules THEN each has a row with at least one bad and one good world", () => {
    const covered = new Set(
      rows.filter((row) => row.bad.length > 0 && row.good.length > 0).map((row) => row.policy),
    );
    assert.deepEqual(
      policies.map((policy) => policy.name).filter((name) => !covered.has(name)),
      [],
    );
    assert.equal(new Set(rows.map((row) => row.policy)).size, rows.length, "one row per rule");
  });
});

for (const row of rows) {
  describe(`policy ${row.policy}`, () => {
    for (const world of row.bad) {
      it(`GIVEN ${world.label} THEN it is flagged, naming the resource and the fix`, async () => {
        const found = await violationsOf(row.policy, world);
        const offender = world.offender ?? world.resources[0]!.name;
        assert.ok(found.length > 0, `expected a violation of ${row.policy}`);
        for (const violation of found) {
          assert.match(violation.message, new RegExp(`"${offender}"`));
          assert.match(violation.message, /Fix: \S/);
          assert.notEqual(violation.enforcementLevel, "disabled");
        }
      });
    }
    for (const world of row.good) {
      it(`GIVEN ${world.label} THEN it passes`, async () => {
        const found = await violationsOf(row.policy, world);
        assert.deepEqual(found, [], describeViolations(found));
      });
    }
  });
}
