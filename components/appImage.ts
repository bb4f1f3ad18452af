import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { tierTags } from "./tags";

/** Untagged images older than this are expired; tagged releases are kept. */
const UNTAGGED_IMAGE_EXPIRY_DAYS = 14;
/** Fargate runs x86_64 tasks unless told otherwise. */
const TARGET_PLATFORM = "linux/amd64";

export interface AppImageArgs {
  /**
   * The image's tag, which must change whenever its content does (tags are immutable here).
   * The stack passes a hash of the files the image is built from.
   * @example "src-3f9a1c2b7d4e"
   */
  tag: string;
  /**
   * The docker build context.
   * @example "."
   */
  context: string;
  /**
   * The Dockerfile, relative to where Pulumi runs.
   * @example "app/Dockerfile"
   */
  dockerfile: string;
  /**
   * Regions the image is replicated to, besides the one it is pushed to, so that each region
   * pulls from its own registry (and keeps scaling out when another region is down).
   * @default []
   */
  replicaRegions?: string[];
}

/**
 * The app's container image: an ECR repository in the primary region, the image built from the
 * repo's Dockerfile and pushed at deploy time (awsx.ecr.Image, which needs a Docker engine where
 * `pulumi up` runs), and registry replication to the other regions.
 *
 * Tasks pull by digest (`repo@sha256:…`), so a deploy changes the service exactly when the image's
 * content changed, and every region runs the same bytes.
 *
 * @example
 * ```ts
 * const image = new AppImage("app", {
 *   context: ".", dockerfile: "app/Dockerfile", tag: "src-3f9a1c2b", replicaRegions: ["eu-west-1"],
 * }, { provider });
 * image.uriIn("eu-west-1");
 * ```
 *
 * Cost: ECR storage at $0.10 per GB-month per region (a ~200 MB image: about $0.02 a month each).
 */
export class AppImage extends pulumi.ComponentResource {
  /** The pushed image by digest, in the region it was pushed to. */
  readonly imageUri: pulumi.Output<string>;

  private readonly repository: aws.ecr.Repository;
  private readonly image: awsx.ecr.Image;

  constructor(name: string, args: AppImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:AppImage", name, {}, opts);
    this.repository = this.createRepository(name);
    this.createLifecyclePolicy(name);
    this.createReplication(name, args.replicaRegions ?? []);
    this.image = this.buildImage(name, args);
    this.imageUri = this.image.imageUri;
    this.registerOutputs({ imageUri: this.imageUri });
  }

  get nodes() {
    return { repository: this.repository, image: this.image };
  }

  /**
   * The same image (same digest) in a replica region's registry. ECR replication creates the
   * repository there under the same name.
   */
  uriIn(region: string): pulumi.Output<string> {
    return this.imageUri.apply((uri) =>
      uri.replace(/\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\//, `.dkr.ecr.${region}.amazonaws.com/`),
    );
  }

  private createRepository(name: string): aws.ecr.Repository {
    return new aws.ecr.Repository(
      `${name}-repository`,
      {
        // Tags never move, so a tag names one build; tasks still pull by digest.
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "AES256" }],
        tags: tierTags("web"),
      },
      { parent: this },
    );
  }

  private createLifecyclePolicy(name: string): void {
    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      {
        repository: this.repository.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: `expire untagged images after ${UNTAGGED_IMAGE_EXPIRY_DAYS} days`,
              selection: {
                tagStatus: "untagged",
                countType: "sinceImagePushed",
                countUnit: "days",
                countNumber: UNTAGGED_IMAGE_EXPIRY_DAYS,
              },
              action: { type: "expire" },
            },
          ],
        }),
      },
      { parent: this },
    );
  }

  private createReplication(name: string, regions: string[]): void {
    if (regions.length === 0) return;
    const account = aws.getCallerIdentityOutput({}, { parent: this });
    new aws.ecr.ReplicationConfiguration(
      `${name}-replication`,
      {
        replicationConfiguration: {
          rules: [
            {
              destinations: regions.map((region) => ({ region, registryId: account.accountId })),
              repositoryFilters: [{ filter: this.repository.name, filterType: "PREFIX_MATCH" }],
            },
          ],
        },
      },
      { parent: this },
    );
  }

  private buildImage(name: string, args: AppImageArgs): awsx.ecr.Image {
    return new awsx.ecr.Image(
      `${name}-image`,
      {
        repositoryUrl: this.repository.repositoryUrl,
        context: args.context,
        dockerfile: args.dockerfile,
        imageTag: args.tag,
        platform: TARGET_PLATFORM,
      },
      { parent: this },
    );
  }
}
