import { describeBrowser } from "./support/browser-suite.ts";

// `npm start` with no configuration: everything in the demo process's memory.
describeBrowser("embedded");
