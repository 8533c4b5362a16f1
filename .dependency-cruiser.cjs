/**
 * Architecture rules, checked by `npm run lint:deps` (part of `npm test`). The folders name the layers:
 * model -> rules/counters/definitions -> backends -> runtime -> engine -> durability / plugins; the browser
 * kit (client/) stands beside them on the wire protocol (src/protocol/) and the model's types.
 */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "an import cycle: move the shared piece down a layer (usually into src/model)", from: {}, to: { circular: true } },
    {
      name: "root-entry-has-no-infrastructure",
      severity: "error",
      comment: "the engine (everything under src/ but the Redis backend, durability and the CLI) never loads ioredis, BullMQ or pg",
      from: { path: "^src/", pathNot: "^src/(backends/redis|durability|cli)/" },
      to: { path: "node_modules/(ioredis|bullmq|pg|pg-copy-streams)/" },
    },
    {
      name: "engine-free-of-colyseus",
      severity: "error",
      comment: "src/ is the Colyseus-free engine; the adapter lives in plugins/",
      from: { path: "^src/" },
      to: { path: "node_modules/@colyseus/" },
    },
    {
      name: "model-is-the-bottom-layer",
      severity: "error",
      comment: "src/model holds plain types and input checks that everything shares; it imports only errors",
      from: { path: "^src/model/" },
      to: { path: "^src/", pathNot: "^src/(model|errors)/" },
    },
    {
      name: "backends-below-the-engine",
      severity: "error",
      comment: "backends implement the contract; they never reach up into the engine, runtime, durability or plugins",
      from: { path: "^src/backends/" },
      to: { path: "^(src/(engine|runtime|durability)|plugins)/" },
    },
    {
      name: "rules-and-counters-are-leaves",
      severity: "error",
      comment: "rule types and counter kinds know only the model (and each other's registries), nothing that runs",
      from: { path: "^src/(rules|counters)/" },
      to: { path: "^src/", pathNot: "^src/(model|errors|rules|counters)/" },
    },
    {
      name: "runtime-below-the-engine",
      severity: "error",
      comment: "the runtime pieces are composed by the engine and the adapter; they never import them",
      from: { path: "^src/runtime/" },
      to: { path: "^(src/(engine|durability)|plugins)/" },
    },
    {
      name: "history-below-the-engine",
      severity: "error",
      comment: "replay and backfill are composed by the engine; they never import it, the runtime, durability or plugins",
      from: { path: "^src/history/" },
      to: { path: "^(src/(engine|runtime|durability)|plugins)/" },
    },
    {
      name: "client-is-browser-safe",
      severity: "error",
      comment: "colyseus-progression/client runs in the browser: it imports only itself, the wire protocol, the model's types and canvas-confetti (no Node built-ins, no server code)",
      from: { path: "^client/" },
      to: { pathNot: "^(client/|src/protocol/|src/model/|node_modules/canvas-confetti/|node_modules/@types/canvas-confetti/)" },
    },
    {
      name: "protocol-is-browser-safe",
      severity: "error",
      comment: "src/protocol is shared by the server and the browser kit: only constants and types from src/model",
      from: { path: "^src/protocol/" },
      to: { pathNot: "^(src/protocol/|src/model/)" },
    },
    {
      name: "no-src-to-adapter",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(plugins|rooms|loadtest|test)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
    exclude: { path: "^(\\.tools|dist)/" },
  },
};
