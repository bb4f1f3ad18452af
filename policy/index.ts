/**
 * The policy pack's entry, the one file that constructs a PolicyPack (doing so starts the policy
 * server, and a second one in a process exits it):
 *
 *   pulumi preview --policy-pack policy --policy-pack-config policy/config.prod.json
 *
 * Rules are defined in ./policies and the modules it imports; see policy/README.md.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  description:
    "Guardrails for zero-to-millions: encryption, no public data stores, least privilege, HTTPS at the edges, and prod resilience.",
  enforcementLevel: "mandatory",
  policies,
});
