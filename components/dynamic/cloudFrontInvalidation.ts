/**
 * A Pulumi dynamic provider for what the AWS provider has no resource for: a CloudFront
 * invalidation, created once per distinct content hash. It runs in the deploying process with the
 * AWS SDK's default credentials, not the aws provider's settings.
 */
import { CloudFrontClient, CreateInvalidationCommand } from "@aws-sdk/client-cloudfront";
import * as pulumi from "@pulumi/pulumi";

/** CloudFront's API lives in us-east-1 whatever the distribution serves. */
const CLOUDFRONT_API_REGION = "us-east-1";

interface InvalidationInputs {
  distributionId: string;
  paths: string[];
  contentHash: string;
}

export interface CloudFrontInvalidationArgs {
  distributionId: pulumi.Input<string>;
  paths: string[];
  /** A digest of what the paths serve; a new value invalidates them again. */
  contentHash: string;
}

/** CreateInvalidation on create; a change of inputs replaces; delete only forgets. */
const invalidationProvider: pulumi.dynamic.ResourceProvider<
  InvalidationInputs,
  InvalidationInputs
> = {
  async create(inputs) {
    const client = new CloudFrontClient({ region: CLOUDFRONT_API_REGION });
    const answer = await client.send(
      new CreateInvalidationCommand({
        DistributionId: inputs.distributionId,
        InvalidationBatch: {
          // Unique per run: the same content deployed again after a rollback must invalidate again.
          CallerReference: `${inputs.contentHash.slice(0, 16)}-${Date.now()}`,
          Paths: { Quantity: inputs.paths.length, Items: inputs.paths },
        },
      }),
    );
    const id = answer.Invalidation?.Id;
    if (id === undefined)
      throw new Error(`CloudFront accepted no invalidation for ${inputs.distributionId}`);
    return { id, outs: inputs };
  },
  async diff(_id, olds, news) {
    const changed =
      olds.contentHash !== news.contentHash ||
      olds.distributionId !== news.distributionId ||
      olds.paths.join() !== news.paths.join();
    return {
      changes: changed,
      replaces: changed ? ["contentHash"] : [],
      deleteBeforeReplace: false,
    };
  },
  async delete() {},
};

/**
 * Invalidates paths of a distribution, once per distinct `contentHash` (the AWS provider has no
 * resource for it). A new hash or distribution replaces the resource, which invalidates again;
 * deleting it does nothing, as an invalidation cannot be undone. It calls CloudFront with the
 * AWS SDK's default credentials (AWS_ENDPOINT_URL reaches an emulator).
 */
export class CloudFrontInvalidation extends pulumi.dynamic.Resource {
  declare readonly distributionId: pulumi.Output<string>;
  declare readonly contentHash: pulumi.Output<string>;

  constructor(
    name: string,
    args: CloudFrontInvalidationArgs,
    opts: pulumi.CustomResourceOptions = {},
  ) {
    super(invalidationProvider, name, { ...args }, opts, "cloudfront", "Invalidation");
  }
}
