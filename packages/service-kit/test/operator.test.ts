import { describe, expect, it } from "@jest/globals";
import type { Request } from "express";
import { z } from "zod";
import { hasOperatorToken, operatorNamedScope, operatorTokenEnv, refineOperatorToken, withOperatorToken } from "../src/operator.js";

const req = (headers: Record<string, string>) => ({ headers }) as unknown as Request;
const ORG = "org_01JD0000000000000000000000";

describe("operator token", () => {
  const Env = z
    .object({ NODE_ENV: z.string(), ...operatorTokenEnv })
    .superRefine(refineOperatorToken)
    .transform(withOperatorToken);

  it("defaults to the development token outside production and demands ≥ 32 characters in production", () => {
    expect(Env.parse({ NODE_ENV: "development" }).OPERATOR_TOKEN).toBe("dev-operator-token");
    const refused = Env.safeParse({ NODE_ENV: "production", OPERATOR_TOKEN: "short" });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(["OPERATOR_TOKEN"]);
    expect(Env.safeParse({ NODE_ENV: "production" }).success).toBe(false);
    expect(Env.parse({ NODE_ENV: "production", OPERATOR_TOKEN: "x".repeat(32) }).OPERATOR_TOKEN).toBe("x".repeat(32));
  });

  it("accepts only `Bearer <the token>`", () => {
    expect(hasOperatorToken(req({ authorization: "Bearer op-token" }), "op-token")).toBe(true);
    expect(hasOperatorToken(req({ authorization: "bearer op-token" }), "op-token")).toBe(true);
    expect(hasOperatorToken(req({ authorization: "Bearer op-token2" }), "op-token")).toBe(false);
    expect(hasOperatorToken(req({ authorization: "Bearer op-toke" }), "op-token")).toBe(false);
    expect(hasOperatorToken(req({ authorization: "Basic op-token" }), "op-token")).toBe(false);
    expect(hasOperatorToken(req({}), "op-token")).toBe(false);
  });

  it("reads the organization and mode an operator call names, or null when either is missing or malformed", () => {
    expect(operatorNamedScope(req({ "x-organization-id": ORG, "x-mode": "test" }))).toEqual({ organizationId: ORG, mode: "test" });
    expect(operatorNamedScope(req({ "x-organization-id": ORG }))).toBeNull();
    expect(operatorNamedScope(req({ "x-organization-id": ORG, "x-mode": "prod" }))).toBeNull();
    expect(operatorNamedScope(req({ "x-organization-id": "org_' OR 1=1", "x-mode": "live" }))).toBeNull();
  });
});
