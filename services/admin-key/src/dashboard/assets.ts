import { fileURLToPath } from "node:url";
import { SENT } from "@authplane/service-kit";
import { z } from "zod";
import { dashboardApi } from "./api.js";
import { dashboardNotFound } from "./principal.js";

/** services/admin-key/assets/dashboard/ (same relative path from src/dashboard and dist/dashboard). */
const ASSETS_DIR = fileURLToPath(new URL("../../assets/dashboard/", import.meta.url));

/** The console's static files: exactly these names (no directory listing, no path from the URL). */
const FILES: Record<string, string> = {
  "dashboard.css": "text/css; charset=utf-8",
  "dashboard.js": "text/javascript; charset=utf-8",
  "passkey.js": "text/javascript; charset=utf-8",
};

const AssetParams = z.object({ file: z.string().meta({ description: "dashboard.css, dashboard.js or passkey.js" }) });

export const assetEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/assets/{file}",
    auth: "none",
    summary: "The console's stylesheet and script (progressive enhancement only)",
    params: AssetParams,
    responses: {
      200: { description: "The file.", contentType: "*/*" },
      404: { description: "No such file.", contentType: "text/html" },
    },
    handler: (_deps, { params, res }) =>
      new Promise((resolve, reject) => {
        const type = FILES[params.file];
        if (!type) return reject(dashboardNotFound());
        res.sendFile(params.file, { root: ASSETS_DIR, headers: { "Content-Type": type, "Cache-Control": "no-cache" } }, (err) =>
          err ? reject(err) : resolve(SENT),
        );
      }),
  }),
];
