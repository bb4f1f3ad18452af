/**
 * Where a component's resources live: the account, partition and region that their ARNs, key
 * policies and conditions name. Components take it as `context` (keys as `account`); without it
 * they look it up through their own provider, which asks STS in that provider's region. The
 * stack passes one it looked up in a region it can reach, so a lost region is never asked.
 */
import * as aws from "./aws";
import * as pulumi from "@pulumi/pulumi";

export interface AwsAccount {
  /** @example "123456789012" */
  accountId: pulumi.Input<string>;
  /** @example "aws" */
  partition: pulumi.Input<string>;
}

export interface AwsContext extends AwsAccount {
  /** The region of the component's provider. @example "us-east-1" */
  region: pulumi.Input<string>;
}

type Resolved<T> = { [K in keyof T]: pulumi.Output<string> };

/** `given`, or the account and partition looked up through the provider of `opts`. */
export function accountOf(
  given: AwsAccount | undefined,
  opts: pulumi.InvokeOutputOptions,
): Resolved<AwsAccount> {
  if (given !== undefined) {
    return { accountId: pulumi.output(given.accountId), partition: pulumi.output(given.partition) };
  }
  return {
    accountId: aws.getCallerIdentityOutput({}, opts).accountId,
    partition: aws.getPartitionOutput({}, opts).partition,
  };
}

/** `given`, or the account, partition and region looked up through the provider of `opts`. */
export function contextOf(
  given: AwsContext | undefined,
  opts: pulumi.InvokeOutputOptions,
): Resolved<AwsContext> {
  return {
    ...accountOf(given, opts),
    region:
      given === undefined ? aws.getRegionOutput({}, opts).region : pulumi.output(given.region),
  };
}
