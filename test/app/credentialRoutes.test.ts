/**
 * The contract's credential routes are the app's sign-in and sign-up: the load balancers' web
 * ACLs rate-limit exactly these (components/webAcl.ts), so a renamed route must rename them too.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CREDENTIAL_ROUTES } from "../../contract";
import { embeddedAppPerSuite } from "./support/embedded";

describe("contract: credential routes", () => {
  const t = embeddedAppPerSuite();

  for (const [what, route] of Object.entries(CREDENTIAL_ROUTES)) {
    it(`GIVEN the app THEN it serves ${what} at ${route.method} ${route.path}`, async () => {
      assert.ok(t.app.hasRoute({ method: route.method, url: route.path }));
      // An empty body is refused by the route's own schema (400 naming a field), not a 404.
      const response = await t.app.inject({ method: route.method, url: route.path, payload: {} });
      assert.equal(response.statusCode, 400, response.body);
      assert.equal(typeof (response.json() as { field?: unknown }).field, "string");
    });
  }
});
