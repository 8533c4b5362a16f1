import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import { milestoneDefinitionSchema, type MilestoneDefinition } from "./milestone-schema.ts";

/**
 * Milestone definitions come from objects or JSON: a file holding one definition or an array, or a
 * directory of such files (read in name order). Everything is validated before anything is used:
 * one bad definition rejects the whole load, with an error naming the milestone, the field and what
 * is expected.
 */
export function loadDefinitions(source: readonly unknown[] | string): MilestoneDefinition[] {
  const raw = typeof source === "string" ? readDefinitionFiles(source) : source.map((value) => ({ value, origin: "" }));
  const definitions: MilestoneDefinition[] = [];
  const origins = new Map<string, string>();
  raw.forEach(({ value, origin }, index) => {
    const parsed = milestoneDefinitionSchema.safeParse(value);
    const where = origin ? ` (in ${origin})` : "";
    if (!parsed.success) {
      const code = codeOf(value) ?? `#${index}`;
      throw new ProgressionError(
        ErrorCode.InvalidDefinition,
        `milestone ${JSON.stringify(code)}${where}: ${describeIssues(parsed.error)}`,
        { code, origin, issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) },
      );
    }
    const previous = origins.get(parsed.data.code);
    if (previous !== undefined) {
      throw new ProgressionError(
        ErrorCode.InvalidDefinition,
        `milestone ${JSON.stringify(parsed.data.code)}${where}: duplicate code (also defined${previous ? ` in ${previous}` : " earlier"}); codes must be unique`,
        { code: parsed.data.code },
      );
    }
    origins.set(parsed.data.code, origin);
    definitions.push(parsed.data);
  });
  return definitions;
}

function readDefinitionFiles(path: string): { value: unknown; origin: string }[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path).filter((name) => name.endsWith(".json")).sort().map((name) => join(path, name))
      : [path];
  } catch (error) {
    throw new ProgressionError(ErrorCode.InvalidDefinition, `cannot read milestone definitions at ${path}: ${(error as Error).message}`, { path });
  }
  return files.flatMap((file) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new ProgressionError(ErrorCode.InvalidDefinition, `milestone file ${file} is not valid JSON: ${(error as Error).message}`, { path: file });
    }
    const values = Array.isArray(parsed) ? parsed : [parsed];
    return values.map((value) => ({ value, origin: file }));
  });
}

function codeOf(value: unknown): string | undefined {
  if (typeof value === "object" && value !== null && "code" in value && typeof value.code === "string") return value.code;
  return undefined;
}

/** "rule.threshold: Too small: expected number to be >0; trigger: Invalid input" */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}
