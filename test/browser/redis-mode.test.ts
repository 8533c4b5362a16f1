import { describeBrowser } from "./support/browser-suite.ts";

// `npm start` with REDIS_URL: the store, the ledger and the jobs in Redis (a random key prefix, deleted after).
describeBrowser("redis");
