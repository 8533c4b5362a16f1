import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it), or CHROMIUM_PATH. */
export const chromiumPath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Headless Chromium for the browser tests; a clear failure when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`the browser tests need Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH to a Chromium binary)`);
  }
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--autoplay-policy=no-user-gesture-required"] });
}
