import { CreateOrganizationRequest, Mode, OrganizationId, UpdateSettingsRequest } from "@authplane/contracts";
import { parseInput } from "@authplane/service-kit";
import { Router } from "express";
import { z } from "zod";
import type { AppDeps } from "../deps.js";
import { AdminErrors } from "../errors.js";
import { createOrganization } from "../usecases/create-organization.js";
import { getOrganization, listOrganizations } from "../usecases/get-organization.js";
import { getSettings, type SettingsScope, updateSettings } from "../usecases/update-settings.js";
import { requireOperator } from "./auth.js";

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: OrganizationId.optional(),
});

/** Operator API (`Authorization: Bearer <OPERATOR_TOKEN>`), mounted at /api/v1/organizations. */
export function operatorRouter(deps: AppDeps): Router {
  const router = Router();
  const auth = requireOperator(deps);

  router.post("/", auth, async (req, res) => {
    const body = parseInput(CreateOrganizationRequest, req.body ?? {});
    const created = await createOrganization(deps.store, body);
    res.status(201).json(created);
  });

  router.get("/", auth, async (req, res) => {
    const q = parseInput(ListQuery, req.query);
    res.json(await listOrganizations(deps.prisma, q));
  });

  router.get("/:id", auth, async (req, res) => {
    const id = req.params.id;
    if (typeof id !== "string" || !OrganizationId.safeParse(id).success) throw AdminErrors.organizationNotFound();
    const org = await getOrganization(deps.prisma, id);
    if (!org) throw AdminErrors.organizationNotFound();
    res.json({ organization: org });
  });

  /**
   * One mode's settings of any organization: what its secret key of that mode reads and PATCHes
   * at /organizations/current/settings (same body, same validation, same event).
   */
  const scopeOf = (params: Record<string, unknown>): SettingsScope => {
    const organizationId = params.id;
    if (typeof organizationId !== "string" || !OrganizationId.safeParse(organizationId).success) throw AdminErrors.organizationNotFound();
    const mode = Mode.safeParse(params.mode);
    if (!mode.success) throw AdminErrors.organizationNotFound();
    return { organizationId, mode: mode.data };
  };

  router.get("/:id/settings/:mode", auth, async (req, res) => {
    res.json({ settings: await getSettings(deps.store, scopeOf(req.params)) });
  });

  router.patch("/:id/settings/:mode", auth, async (req, res) => {
    const scope = scopeOf(req.params);
    const patch = parseInput(UpdateSettingsRequest, req.body ?? {});
    res.json({ settings: await updateSettings(deps.store, scope, patch) });
  });

  return router;
}
