import { timingSafeEqual } from "node:crypto";
import { createEndpoint } from "@colyseus/core";
import { z } from "zod";
import type { Progression } from "../src/engine/progression.ts";
import { ErrorCode } from "../src/errors/error-codes.ts";
import { ProgressionError, isProgressionError } from "../src/errors/progression-error.ts";

export interface AdminRoutesOptions {
  /** Bearer token every request must carry (`Authorization: Bearer <token>`); at least 16 characters. */
  readonly token: string;
  /** Path prefix. @default "/progression/admin" */
  readonly prefix?: string;
}

const MIN_TOKEN_LENGTH = 16;
const simulateBody = z.object({ definitions: z.array(z.unknown()).max(10_000) });

/**
 * Read-only admin routes, to spread into `createRouter({ ... })`:
 * - `GET <prefix>/milestones` -> `{ codes }`
 * - `GET <prefix>/preview?code=&locale=` -> the unlock payload exactly as a player would see it,
 *   without awarding anything
 * - `GET <prefix>/progress?subject=&locale=` -> a player's progress, hidden milestones masked
 * - `GET <prefix>/history?subject=` -> `{ subject, rollups }`: the player's event history
 * - `GET <prefix>/explain?subject=&code=` -> why the player has (or has not) the milestone
 * - `POST <prefix>/simulate` with `{ definitions: [...] }` -> what deploying them would award, changing
 *   nothing (an invalid set answers 400 naming every invalid definition in `problems`)
 * Every route answers 401 without the token; errors are JSON `{ code, message }`.
 */
export function progressionAdminRoutes(progression: Progression, options: AdminRoutesOptions) {
  if (typeof options.token !== "string" || options.token.length < MIN_TOKEN_LENGTH) {
    throw new ProgressionError(
      ErrorCode.InvalidInput,
      `admin routes need a token of at least ${MIN_TOKEN_LENGTH} characters (option token); generate one, e.g. openssl rand -hex 24`,
    );
  }
  const expected = Buffer.from(`Bearer ${options.token}`);
  const prefix = options.prefix ?? "/progression/admin";
  const authorized = (header: string | null): boolean => {
    const given = Buffer.from(header ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const guarded = async <T>(header: string | null, run: () => T | Promise<T>): Promise<T | Response> => {
    if (!authorized(header)) {
      return json(401, { code: "UNAUTHORIZED", message: "send Authorization: Bearer <admin token>" });
    }
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

  return {
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

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
