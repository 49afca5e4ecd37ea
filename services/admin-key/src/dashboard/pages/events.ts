import type { Mode } from "@authplane/contracts";
import { isDraining, SENT } from "@authplane/service-kit";
import { z } from "zod";
import type { AppDeps } from "../../deps.js";
import type { TailEvent } from "../../events/tail.js";
import { dashboardApi, htmlResponses, sendHtml } from "../api.js";
import { html, path, type SafeHtml } from "../html.js";
import { page, time } from "../layout.js";
import { ModeQuery, modePath, organizationFor, organizationIdParam, orgHeader } from "../organization-context.js";
import type { DashboardSession } from "../session.js";

/**
 * The live tail of an organization's auth events in one mode (every service's NATS events, via
 * admin-key's EventTail). The page lists the recent backlog (works without JavaScript);
 * dashboard.js opens the server-sent-event stream and appends what arrives to the same list
 * (`aria-live="polite"`).
 *
 * The stream (`text/event-stream`, GET, the session cookie): the backlog first (after the
 * `Last-Event-ID` a reconnecting EventSource sends, when it is still in the backlog), then each
 * new event as it is published; a heartbeat comment every DASHBOARD_TAIL_HEARTBEAT_SECONDS, at
 * which the session is also re-checked WITHOUT counting as activity: signed out, idle or past its
 * absolute timeout, the stream sends `event: end` and closes (the page then stops reconnecting).
 * An organization admin only ever gets its own organization (organizationFor). A graceful shutdown
 * ends open streams at once (they reconnect elsewhere).
 */

const Params = z.object({ organizationId: organizationIdParam });
const Query = z.object({ mode: ModeQuery });

/** What one event shows: its data's fields as `key: value` (values cut at 200 characters). */
function summary(data: Record<string, unknown>): string {
  return Object.entries(data)
    .map(([k, v]) => {
      const text = typeof v === "string" ? v : JSON.stringify(v);
      return `${k}: ${text && text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
    })
    .join(", ");
}

/** The JSON a stream message carries (what dashboard.js renders: the same fields as the list items). */
function wire(e: TailEvent) {
  return { id: e.id, type: e.type, occurredAt: e.occurredAt, mode: e.mode, summary: summary(e.data) };
}

function item(e: TailEvent): SafeHtml {
  return html`<li data-event-id="${e.id}">${time(e.occurredAt)} <strong class="event-type">${e.type}</strong> <span class="event-summary">${summary(e.data)}</span></li>`;
}

/** The session as the stream re-checks it: live, or why not. Never touches the idle clock. */
async function sessionEnded(deps: AppDeps, session: DashboardSession): Promise<string | null> {
  const row = await deps.prisma.dashboardSession.findFirst({
    where: { id: session.id },
    select: { revokedAt: true, expiresAt: true, lastSeenAt: true },
  });
  const now = Date.now();
  if (!row || row.revokedAt) return "signed_out";
  if (row.expiresAt.getTime() <= now) return "expired";
  if (row.lastSeenAt.getTime() + deps.env.DASHBOARD_IDLE_TIMEOUT_SECONDS * 1000 <= now) return "idle";
  return null;
}

function backlogAfter(events: TailEvent[], lastEventId: string | undefined): TailEvent[] {
  if (!lastEventId) return events;
  const at = events.findIndex((e) => e.id === lastEventId);
  return at < 0 ? events : events.slice(at + 1);
}

export const eventEndpoints = [
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}/events",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "The live tail of an organization's auth events in one mode (recent events; live with JavaScript)",
    params: Params,
    query: Query,
    responses: htmlResponses("The recent events, and the list the live stream appends to."),
    handler: async (deps, { caller, params, query, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const mode: Mode = query.mode;
      const recent = deps.eventTail.recent(org.id, mode);
      const stream = modePath(mode, ["organizations", org.id, "events", "stream"]);
      return sendHtml(
        res,
        page({
          title: `${org.name}: live events`,
          session: caller.session,
          nav: "organizations",
          body: html`${orgHeader(org, "events", mode)}
<p>The organization's ${mode} auth events (sign-ins, sessions, codes, passkeys, keys, settings), oldest first.
<span class="live-only" hidden>New events are added at the end as they happen.</span>
<span class="no-live">This list shows the recent events; <a href="${modePath(mode, ["organizations", org.id, "events"])}">reload</a> for newer ones.</span></p>
<p id="tail-status" class="muted" role="status"></p>
<ol id="live-events" class="events" aria-live="polite" aria-relevant="additions" aria-label="${mode === "live" ? "Live" : "Test"} events" data-stream="${stream}">
${recent.map(item)}
</ol>
<p class="muted" id="no-events"${recent.length ? html` hidden` : ""}>No events yet.</p>
<p><a href="${path("organizations", org.id)}">Back to the organization</a></p>`,
        }),
      );
    },
  }),
  dashboardApi.endpoint({
    method: "get",
    path: "/dashboard/organizations/{organizationId}/events/stream",
    auth: "cookieSession",
    rateLimit: "ip",
    summary: "The organization's auth events in one mode as server-sent events (backlog, then live; heartbeats)",
    params: Params,
    query: Query,
    headers: z.object({ "last-event-id": z.string().max(100).optional() }),
    responses: htmlResponses("Not used (the stream is 200 text/event-stream).", {
      200: {
        description: "`text/event-stream`: `event: auth` messages (JSON data), `: heartbeat` comments, a final `event: end`.",
        contentType: "text/event-stream",
      },
    }),
    handler: async (deps, { caller, params, query, headers, req, res }) => {
      const org = await organizationFor(deps, caller.principal, params.organizationId);
      const mode: Mode = query.mode;
      res.status(200);
      res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
      res.setHeader("Connection", "keep-alive");
      // nginx (and similar proxies): do not buffer this answer.
      res.setHeader("X-Accel-Buffering", "no");
      res.flushHeaders();
      let closed = false;
      const send = (e: TailEvent) => {
        if (!closed) res.write(`id: ${e.id}\nevent: auth\ndata: ${JSON.stringify(wire(e))}\n\n`);
      };
      res.write("retry: 5000\n\n");
      for (const e of backlogAfter(deps.eventTail.recent(org.id, mode), headers["last-event-id"])) send(e);
      const unlisten = deps.eventTail.listen(org.id, (e) => {
        if (e.mode === mode) send(e);
      });
      const stop = () => {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        clearInterval(drainCheck);
        unlisten();
      };
      // A graceful shutdown must not wait for open streams: they end (no `end` event), and the
      // page's EventSource reconnects, through the gateway, to another instance.
      const drainCheck = setInterval(() => {
        if (!isDraining()) return;
        stop();
        res.end();
      }, 1000);
      drainCheck.unref();
      const timer = setInterval(() => {
        void sessionEnded(deps, caller.session).then(
          (reason) => {
            if (closed) return;
            if (reason) {
              res.write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
              stop();
              res.end();
            } else res.write(": heartbeat\n\n");
          },
          () => {
            // The database is unreachable: end the stream (the page reconnects; sign-in is checked again).
            stop();
            res.end();
          },
        );
      }, deps.env.DASHBOARD_TAIL_HEARTBEAT_SECONDS * 1000);
      timer.unref();
      req.on("close", stop);
      res.on("close", stop);
      return SENT;
    },
  }),
];
