import * as aws from "./aws";
import * as awsxEcr from "@pulumi/awsx/ecr";
import * as pulumi from "@pulumi/pulumi";
import { createKmsKey } from "./kmsKey";
import { tierTags } from "./tags";
import type { AwsAccount } from "./awsContext";

/** Untagged images (a tag pushed again leaves its earlier image untagged) are expired after this. */
const UNTAGGED_IMAGE_EXPIRY_DAYS = 14;
/** Builds kept per repository, newest first: how far back a rollback by digest can reach. */
const KEPT_RELEASES = 100;
/** The tag prefix of the builds the stack makes (`src-<hash of the image's sources>`). */
export const RELEASE_TAG_PREFIX = "src-";
/** Fargate runs x86_64 tasks unless told otherwise. */
const TARGET_PLATFORM = "linux/amd64";

export interface AppImageArgs {
  /**
   * The image's tag: a hash of the files it is built from, so the same sources get the same tag.
   * Tags are mutable: rolling back to earlier sources pushes their tag again, which an immutable
   * repository would refuse. Tasks pull by digest, so a moved tag never changes what runs.
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
   * Where the image is pushed: a repository of its own in each region, keyed by a label (the
   * region's role), with that region's provider. Each region's tasks pull from their own
   * registry, so a region keeps starting tasks while another is down.
   *
   * Not ECR replication: it is asynchronous (nothing would order the secondary's task definition
   * after the copy), covers only pushes made after it is configured, and is one configuration per
   * registry and region, so two stacks in one account would overwrite each other's. A push per
   * region finishes before `imageUris` resolves; the second build is a Docker cache hit.
   *
   * Adding or removing a label creates or deletes that region's repository (with its images).
   * @example { primary: usEast1, secondary: euWest1 }
   */
  registries: Record<string, aws.Provider>;
  /**
   * The account the resources live in (components/awsContext.ts).
   * @default looked up through each resource's provider (STS in its region)
   */
  account?: AwsAccount;
}

/**
 * The app's container image: an ECR repository per region, and the image built from the repo's
 * Dockerfile and pushed to each at deploy time (awsx.ecr.Image, which needs a Docker engine where
 * `pulumi up` runs).
 *
 * Tasks pull by digest (`repo@sha256:…`), so a deploy changes a service exactly when its image's
 * content changed. The repositories are deleted with their images on `destroy` (`forceDelete`):
 * every image can be rebuilt from its commit, and a repository that refuses deletion
 * (RepositoryNotEmptyException) would stop the destroy halfway.
 *
 * @example
 * ```ts
 * const image = new AppImage("app", {
 *   context: ".", dockerfile: "app/Dockerfile", tag: "src-3f9a1c2b",
 *   registries: { primary: usEast1, secondary: euWest1 },
 * });
 * image.imageUris.secondary;
 * ```
 *
 * Cost: ECR storage at $0.10 per GB-month per region (a ~200 MB image: about $0.02 a month each,
 * so up to about $2 a month per region for the 100 builds kept), and $1 a month per region for
 * the repository's KMS key.
 */
export class AppImage extends pulumi.ComponentResource {
  /** The pushed image by digest, per label of `registries`. */
  readonly imageUris: Record<string, pulumi.Output<string>>;

  private readonly repositories: Record<string, aws.ecr.Repository>;
  private readonly images: Record<string, awsxEcr.Image>;

  constructor(name: string, args: AppImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("zero-to-millions:components:AppImage", name, {}, opts);
    const labels = Object.keys(args.registries);
    if (labels.length === 0) {
      throw new Error(`AppImage "${name}": registries is empty; name at least one region`);
    }
    this.repositories = {};
    this.images = {};
    this.imageUris = {};
    for (const label of labels) {
      const provider = args.registries[label]!;
      const repository = this.createRepository(`${name}-${label}`, provider, args.account);
      this.createLifecyclePolicy(`${name}-${label}`, repository, provider);
      const image = this.buildImage(`${name}-${label}`, repository, args, provider);
      this.repositories[label] = repository;
      this.images[label] = image;
      this.imageUris[label] = image.imageUri;
    }
    this.registerOutputs({ imageUris: this.imageUris });
  }

  get nodes() {
    return { repositories: this.repositories, images: this.images };
  }

  /**
   * A repository whose layers are encrypted under a customer-managed key of its region. ECR reads
   * the key through a grant it creates with the deployer's permissions, so the key policy names
   * no one else, and pulling needs no KMS permission on the tasks' roles.
   *
   * The encryption configuration forces a new repository (ForceNew in the provider's
   * aws_ecr_repository): the repository is autonamed, so the new one is created, the image pushed
   * to it and the services rolled to it before the old one is deleted with its images, which can
   * all be rebuilt.
   */
  private createRepository(
    name: string,
    provider: aws.Provider,
    account: AwsAccount | undefined,
  ): aws.ecr.Repository {
    const key = createKmsKey(this, `${name}-repository`, {
      ...(account === undefined ? {} : { account }),
      description: `${name}: the app's container image layers`,
      alias: true,
      provider,
      tags: tierTags("web"),
    });
    return new aws.ecr.Repository(
      `${name}-repository`,
      {
        imageTagMutability: "MUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: key.arn }],
        forceDelete: true,
        tags: tierTags("web"),
      },
      { parent: this, provider },
    );
  }

  private createLifecyclePolicy(
    name: string,
    repository: aws.ecr.Repository,
    provider: aws.Provider,
  ): void {
    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      {
        repository: repository.name,
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
            {
              rulePriority: 2,
              description: `keep the last ${KEPT_RELEASES} builds (the reach of a rollback)`,
              selection: {
                tagStatus: "tagged",
                tagPrefixList: [RELEASE_TAG_PREFIX],
                countType: "imageCountMoreThan",
                countNumber: KEPT_RELEASES,
              },
              action: { type: "expire" },
            },
          ],
        }),
      },
      { parent: this, provider },
    );
  }

  private buildImage(
    name: string,
    repository: aws.ecr.Repository,
    args: AppImageArgs,
    provider: aws.Provider,
  ): awsxEcr.Image {
    return new awsxEcr.Image(
      `${name}-image`,
      {
        repositoryUrl: repository.repositoryUrl,
        context: args.context,
        dockerfile: args.dockerfile,
        imageTag: args.tag,
        platform: TARGET_PLATFORM,
      },
      { parent: this, providers: [provider] },
    );
  }
}
