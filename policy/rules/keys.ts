/**
 * KMS: every symmetric encryption key the program creates rotates its key material.
 *
 * Rotation is free and invisible to callers (KMS keeps the old material to decrypt what it
 * encrypted). Asymmetric and HMAC keys cannot rotate, so the rule judges symmetric encryption keys
 * only, the default kind.
 */
import * as aws from "@pulumi/aws";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { UNKNOWN, read, violation } from "../values";

/** The key spec of a symmetric encryption key, the only kind KMS rotates automatically. */
const SYMMETRIC_KEY_SPEC = "SYMMETRIC_DEFAULT";
const ENCRYPTION_USAGE = "ENCRYPT_DECRYPT";

export const kmsKeyRotation: ResourceValidationPolicy = {
  name: "kms-key-rotation",
  description: "Symmetric KMS encryption keys have automatic key rotation on.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(aws.kms.Key, (key, args, reportViolation) => {
    const spec = read(() => key.customerMasterKeySpec);
    const usage = read(() => key.keyUsage);
    if (spec === UNKNOWN || usage === UNKNOWN) return;
    if ((spec ?? SYMMETRIC_KEY_SPEC) !== SYMMETRIC_KEY_SPEC) return;
    if ((usage ?? ENCRYPTION_USAGE) !== ENCRYPTION_USAGE) return;
    const rotation = read(() => key.enableKeyRotation);
    if (rotation === true || rotation === UNKNOWN) return;
    reportViolation(
      violation(
        args,
        "its key material never rotates",
        "set enableKeyRotation: true (KMS then rotates the material yearly at no extra cost; components/kmsKey.ts does)",
      ),
    );
  }),
};
