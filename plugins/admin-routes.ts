import { createHash, timingSafeEqual } from "node:crypto";
import { createEndpoint } from "@colyseus/core";
import { z } from "zod";
import type { Progression } from "../src/engine/progression.ts";
import { ErrorCode } from "../src/errors/error-codes.ts";
import { ProgressionError, isProgressionError } from "../src/errors/progression-error.ts";
import { describeError } from "../src/logging/logger.ts";
import type { AdminTabAssets } from "./admin-tab/admin-tab-assets.ts";
import type { ProgressionHost } from "./progression-host.ts";

export interface AdminRoutesOptions {
  /** Bearer token every data route needs (`Authorization: Bearer <token>`); at least 16 characters. */
  readonly token: string;
  /** Path prefix. @default "/progression/admin" */
  readonly prefix?: string;
  /**
   * The process's host: needed by `players` and `preview-live` (they answer 404 NO_HOST without it).
   * Players are those connected to this process.
   */
  readonly host?: ProgressionHost;
}

/** The admin routes' own error codes (engine failures keep the engine's codes). */
export const AdminErrorCode = {
  Unauthorized: "UNAUTHORIZED",
  NoHost: "NO_HOST",
  NotConnected: "NOT_CONNECTED",
  AdminTabUnavailable: "ADMIN_TAB_UNAVAILABLE",
} as const;

const MIN_TOKEN_LENGTH = 16;
/** `Authorization: Bearer <token>` (the scheme is case-insensitive). */
const BEARER = /^Bearer +(\S+)$/i;
const simulateBody = z.object({ definitions: z.array(z.unknown()).max(10_000) });
const previewLiveBody = z.strictObject({
  subject: z.string().min(1).max(200),
  code: z.string().min(1).max(128),
  locale: z.string().min(1).max(35).optional(),
});

/**
 * Admin routes, to spread into `createRouter({ ... })`. The admin tab, a page that holds no data, is served
 * without the token:
 * - `GET <prefix>` -> the admin tab (HTML); `GET <prefix>/tab.js` -> its script
 *
 * Every data route needs the token (401 without it or with a wrong one, saying which):
 * - `GET <prefix>/milestones` -> `{ codes }`
 * - `GET <prefix>/catalog` -> every milestone with its definition, texts per locale (missing ones named),
 *   hidden/active flags and how many players reached and claimed it
 * - `GET <prefix>/preview?code=&locale=` -> the unlock payload exactly as a player would see it,
 *   without awarding anything
 * - `GET <prefix>/progress?subject=&locale=` -> a player's progress, hidden milestones masked
 * - `GET <prefix>/history?subject=` -> `{ subject, rollups }`: the player's event history
 * - `GET <prefix>/explain?subject=&code=` -> why the player has (or has not) the milestone
 * - `POST <prefix>/simulate` with `{ definitions: [...] }` -> what deploying them would award, changing
 *   nothing (an invalid set answers 400 naming every invalid definition in `problems`)
 * - `GET <prefix>/players` -> `{ players: [{ subject, clients, locales }] }`: players connected to this process
 * - `POST <prefix>/preview-live` with `{ subject, code, locale? }` -> `{ subject, code, clients }`: sends the
 *   player's clients a `progression:preview` of the milestone (this process's and, with a cross-process
 *   presence, every other's), awarding, storing and counting nothing; 404 UNKNOWN_MILESTONE, 409
 *   NOT_CONNECTED when the player has no client connected to this process (nothing is sent then)
 * `players` and `preview-live` need option `host` (404 NO_HOST without it). Errors are JSON `{ code, message }`.
 */
export function progressionAdminRoutes(progression: Progression, options: AdminRoutesOptions) {
  if (typeof options.token !== "string" || options.token.length < MIN_TOKEN_LENGTH) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `admin routes need a token of at least ${MIN_TOKEN_LENGTH} characters (option token); generate one, e.g. openssl rand -hex 24`,
    );
  }
  // Digests of equal length compared in constant time: neither the token nor its length leaks through timing.
  const expected = sha256(options.token);
  const prefix = options.prefix ?? "/progression/admin";
  const { host } = options;
  const unauthorized = (header: string | null): Response | undefined => {
    const given = header === null ? null : BEARER.exec(header.trim());
    if (given === null || given[1] === undefined) {
      return json(401, { code: AdminErrorCode.Unauthorized, message: "no admin token: send Authorization: Bearer <admin token>" }, { "www-authenticate": "Bearer" });
    }
    if (timingSafeEqual(sha256(given[1]), expected)) return undefined;
    return json(
      401,
      { code: AdminErrorCode.Unauthorized, message: "wrong admin token: send Authorization: Bearer <the token this server was configured with>" },
      { "www-authenticate": 'Bearer error="invalid_token"' },
    );
  };
  const guarded = async <T>(header: string | null, run: () => T | Promise<T>): Promise<T | Response> => {
    const refused = unauthorized(header);
    if (refused !== undefined) return refused;
    try {
      return await run();
    } catch (error) {
      if (isProgressionError(error)) {
        const problems = error.code === ErrorCode.InvalidDefinition ? { problems: error.details["problems"] ?? [] } : {};
        return json(error.code === ErrorCode.UnknownMilestone ? 404 : 400, { code: error.code, message: error.message, ...problems });
      }
      throw error;
    }
  };
  const locale = z.string().max(35).optional();
  const subject = z.string().min(1).max(200);
  const hostOrRefusal = (): ProgressionHost | Response =>
    host ??
    json(404, {
      code: AdminErrorCode.NoHost,
      message: "these admin routes have no host: pass the process's host, progressionAdminRoutes(progression, { token, host })",
    });
  // Loaded on the first page request (the module memoizes): a server whose admin never opens the tab pays nothing for it.
  const tabAssets = (): Promise<AdminTabAssets> => import("./admin-tab/admin-tab-assets.ts").then((module) => module.adminTabAssets());
  const page = async (type: string, pick: (built: AdminTabAssets) => string): Promise<Response> => {
    try {
      return new Response(pick(await tabAssets()), {
        headers: { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer" },
      });
    } catch (error) {
      // These routes need no token: the reason (paths, a missing esbuild) goes to the server's log only.
      progression.logger.error(`the admin tab could not be built: ${describeError(error)}`);
      return json(500, { code: AdminErrorCode.AdminTabUnavailable, message: "the admin tab could not be built; the server's log says why" });
    }
  };

  return {
    "progression-admin-tab": createEndpoint(prefix, { method: "GET" }, async () => page("text/html; charset=utf-8", (built) => built.html)),
    "progression-admin-tab-script": createEndpoint(`${prefix}/tab.js`, { method: "GET" }, async () =>
      page("application/javascript; charset=utf-8", (built) => built.script),
    ),
    "progression-admin-catalog": createEndpoint(`${prefix}/catalog`, { method: "GET" }, async (ctx) =>
      guarded(ctx.getHeader("authorization"), () => progression.milestoneCatalog()),
    ),
    "progression-admin-players": createEndpoint(`${prefix}/players`, { method: "GET" }, async (ctx) =>
      guarded(ctx.getHeader("authorization"), () => {
        const found = hostOrRefusal();
        return found instanceof Response ? found : { players: found.connectedSubjects() };
      }),
    ),
    "progression-admin-preview-live": createEndpoint(
      `${prefix}/preview-live`,
      // Checked after the token, like simulate.
      { method: "POST", body: z.unknown() },
      async (ctx) =>
        guarded(ctx.getHeader("authorization"), () => {
          const found = hostOrRefusal();
          if (found instanceof Response) return found;
          const body = previewLiveBody.safeParse(ctx.body);
          if (!body.success) {
            throw new ProgressionError(ErrorCode.InvalidInput, 'POST a JSON body { "subject": "<player id>", "code": "<milestone code>", "locale"?: "<locale>" }', {});
          }
          const { subject: player, code, locale: chosen } = body.data;
          progression.preview(code, chosen); // an unknown code answers 404 before anything is checked or sent
          if (!found.connectedSubjects().some((connected) => connected.subject === player)) {
            return json(409, {
              code: AdminErrorCode.NotConnected,
              message: `player ${JSON.stringify(player)} has no client connected to this server process: pick one from GET ${prefix}/players`,
            });
          }
          return { subject: player, code, clients: found.preview(player, code, chosen).clients };
        }),
    ),
    "progression-admin-milestones": createEndpoint(`${prefix}/milestones`, { method: "GET" }, async (ctx) =>
      guarded(ctx.getHeader("authorization"), () => ({ codes: progression.milestoneCodes() })),
    ),
    "progression-admin-preview": createEndpoint(
      `${prefix}/preview`,
      { method: "GET", query: z.object({ code: z.string().min(1).max(128), locale }) },
      async (ctx) => guarded(ctx.getHeader("authorization"), () => progression.preview(ctx.query.code, ctx.query.locale)),
    ),
    "progression-admin-progress": createEndpoint(
      `${prefix}/progress`,
      { method: "GET", query: z.object({ subject: z.string().min(1).max(200), locale }) },
      async (ctx) =>
        guarded(ctx.getHeader("authorization"), async () => ({
          subject: ctx.query.subject,
          milestones: await progression.progress(ctx.query.subject, ctx.query.locale),
        })),
    ),
    "progression-admin-history": createEndpoint(`${prefix}/history`, { method: "GET", query: z.object({ subject }) }, async (ctx) =>
      guarded(ctx.getHeader("authorization"), async () => ({ subject: ctx.query.subject, rollups: await progression.history(ctx.query.subject) })),
    ),
    "progression-admin-explain": createEndpoint(
      `${prefix}/explain`,
      { method: "GET", query: z.object({ subject, code: z.string().min(1).max(128) }) },
      async (ctx) => guarded(ctx.getHeader("authorization"), () => progression.explain(ctx.query.subject, ctx.query.code)),
    ),
    "progression-admin-simulate": createEndpoint(
      `${prefix}/simulate`,
      // Checked after the token (an unauthorised caller learns nothing); the engine names every invalid definition.
      { method: "POST", body: z.unknown() },
      async (ctx) =>
        guarded(ctx.getHeader("authorization"), () => {
          const body = simulateBody.safeParse(ctx.body);
          if (!body.success) throw new ProgressionError(ErrorCode.InvalidInput, 'POST a JSON body { "definitions": [ ...milestone definitions ] }', {});
          return progression.simulate(body.data.definitions as never);
        }),
    ),
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
