import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import { ErrorCode } from "../errors/error-codes.ts";
import { ProgressionError } from "../errors/progression-error.ts";
import { relationProblems } from "./definition-relations.ts";
import { milestoneDefinitionSchema, type MilestoneDefinition } from "./milestone-schema.ts";

/**
 * Milestone definitions come from objects or JSON: a file holding one definition or an array, or a
 * directory of such files (read in name order). Everything is validated before anything is used:
 * one bad definition rejects the whole load, with an error naming the milestone, the field and what
 * is expected.
 */
export function loadDefinitions(source: readonly unknown[] | string): MilestoneDefinition[] {
  if (typeof source !== "string" && !Array.isArray(source)) {
    throw new ProgressionError(
      ErrorCode.InvalidDefinition,
      `definitions must be an array of milestone definitions or a path to a JSON file or directory (got ${describeValue(source)})`,
      {},
    );
  }
  const raw = typeof source === "string" ? readDefinitionFiles(source) : source.map((value) => ({ value, origin: "" }));
  const definitions: MilestoneDefinition[] = [];
  const origins = new Map<string, string>();
  // Every bad milestone is reported at once, so a designer fixes a file in one pass.
  const problems: { code: string; origin: string; message: string; issues: { path: string; message: string }[]; codes?: readonly string[]; unknown?: readonly string[] }[] = [];
  raw.forEach(({ value, origin }, index) => {
    const parsed = milestoneDefinitionSchema.safeParse(value);
    const where = origin ? ` (in ${origin})` : "";
    if (!parsed.success) {
      const code = codeOf(value) ?? `#${index}`;
      problems.push({
        code,
        origin,
        message: `milestone ${JSON.stringify(code)}${where}: ${describeIssues(parsed.error)}`,
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
      });
      return;
    }
    const previous = origins.get(parsed.data.code);
    if (previous !== undefined) {
      problems.push({
        code: parsed.data.code,
        origin,
        message: `milestone ${JSON.stringify(parsed.data.code)}${where}: duplicate code (also defined${previous ? ` in ${previous}` : " earlier"}); codes must be unique`,
        issues: [{ path: "code", message: "duplicate code" }],
      });
      return;
    }
    origins.set(parsed.data.code, origin);
    definitions.push(parsed.data);
  });
  // Preconditions, series and periods: checked across the load (also through reload and simulate).
  const known = new Set(raw.map(({ value }) => codeOf(value)).filter((code): code is string => code !== undefined));
  for (const problem of relationProblems(definitions, known)) {
    const origin = origins.get(problem.code) ?? "";
    problems.push({
      code: problem.code,
      origin,
      message: origin ? `${problem.message} (in ${origin})` : problem.message,
      issues: [{ path: problem.path, message: problem.message }],
      codes: problem.codes,
      ...(problem.unknown === undefined ? {} : { unknown: problem.unknown }),
    });
  }
  if (problems.length > 0) {
    const first = problems[0];
    // Every milestone involved (a cycle names several), and the required codes nobody defines.
    const codes = [...new Set(problems.flatMap((problem) => problem.codes ?? [problem.code]))];
    const unknown = [...new Set(problems.flatMap((problem) => problem.unknown ?? []))];
    throw new ProgressionError(
      ErrorCode.InvalidDefinition,
      problems.length === 1 ? (first?.message ?? "") : `${Math.max(problems.length, codes.length)} milestones are invalid: ${problems.map((problem) => problem.message).join(" | ")}`,
      { code: first?.code, origin: first?.origin, issues: first?.issues, problems, codes, ...(unknown.length > 0 ? { unknown } : {}) },
    );
  }
  return definitions;
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  return Array.isArray(value) ? "an array" : typeof value;
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
