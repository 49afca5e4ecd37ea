import {
  CreateOrganizationRequest,
  CreateOrganizationResponse,
  ListOrganizationsResponse,
  Mode,
  OrganizationId,
  OrganizationResponse,
  SettingsResponse,
  UpdateSettingsRequest,
} from "@authplane/contracts";
import { z } from "zod";
import { Errors } from "../errors.js";
import { createOrganization } from "../usecases/create-organization.js";
import { getOrganization, listOrganizations } from "../usecases/get-organization.js";
import { getSettings, updateSettings } from "../usecases/update-settings.js";
import { adminApi, pathId } from "./api.js";

/** Operator API (`Authorization: Bearer <OPERATOR_TOKEN>`): every organization. */
const operator = { auth: "operatorToken", rateLimit: "ip", tags: ["Operator API"] } as const;

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: OrganizationId.optional(),
});

const organizationId = pathId(OrganizationId, Errors.organizationNotFound, "The organization's id (org_…); another string is a 404.");
const OrganizationParams = z.object({ id: organizationId });
const SettingsParams = z.object({
  id: organizationId,
  mode: pathId(Mode, Errors.organizationNotFound, "`live` or `test`; another string is a 404."),
});
const notFound = { 404: ["organization_not_found"] } as const;

export const operatorApiEndpoints = [
  adminApi.endpoint({
    ...operator,
    method: "post",
    path: "/api/v1/organizations",
    summary: "Create an organization with its settings and four keys (shown once)",
    body: CreateOrganizationRequest,
    responses: { 201: CreateOrganizationResponse },
    handler: (deps, { body }) => createOrganization(deps, body),
  }),
  adminApi.endpoint({
    ...operator,
    method: "get",
    path: "/api/v1/organizations",
    summary: "List organizations, newest first (pass `nextBefore` as `before` for the next page)",
    query: ListQuery,
    responses: { 200: ListOrganizationsResponse },
    handler: (deps, { query }) => listOrganizations(deps, query),
  }),
  adminApi.endpoint({
    ...operator,
    method: "get",
    path: "/api/v1/organizations/{id}",
    summary: "An organization with the settings of both modes",
    params: OrganizationParams,
    responses: { 200: OrganizationResponse },
    errors: notFound,
    handler: async (deps, { params }) => {
      const organization = await getOrganization(deps, { organizationId: params.id });
      if (!organization) throw Errors.organizationNotFound();
      return { organization };
    },
  }),
  adminApi.endpoint({
    ...operator,
    method: "get",
    path: "/api/v1/organizations/{id}/settings/{mode}",
    summary: "One mode's settings of an organization (what its secret key of that mode reads)",
    params: SettingsParams,
    responses: { 200: SettingsResponse },
    errors: notFound,
    handler: async (deps, { params }) => ({ settings: await getSettings(deps, { organizationId: params.id, mode: params.mode }) }),
  }),
  adminApi.endpoint({
    ...operator,
    method: "patch",
    path: "/api/v1/organizations/{id}/settings/{mode}",
    summary: "Change one mode's settings of an organization (same body, validation and event as the Admin API's)",
    params: SettingsParams,
    body: UpdateSettingsRequest,
    responses: { 200: SettingsResponse },
    errors: notFound,
    handler: async (deps, { params, body }) => ({
      settings: await updateSettings(deps, { organizationId: params.id, mode: params.mode, patch: body }),
    }),
  }),
];
