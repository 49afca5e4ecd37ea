import { createResponseValidator, type ResponseValidator, validateResponses } from "@authplane/service-kit/testing";
import type { Express } from "express";
import supertest from "supertest";
import { adminKeyOpenApi } from "../../src/app.js";

/**
 * admin-key's test harness for HTTP calls: `request(app)` is supertest's, except that every
 * response through it is checked against the service's OpenAPI document (declared status, content
 * type, body schema and error codes), so the whole suite validates what the API answers.
 */
export const validator: ResponseValidator = createResponseValidator(adminKeyOpenApi());

export function request(app: Express): ReturnType<typeof supertest> {
  return validateResponses(supertest(app), validator);
}
