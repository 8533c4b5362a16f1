/// <reference lib="dom" />
/**
 * Renders the arena's webm animation once: `node scripts/render-demo-assets.ts`.
 *
 * `rooms/arena/assets/animations/slayer_gold.webm` (the slayer_1000 unlock) is a 2 s golden burst drawn on a
 * canvas in headless Chromium and recorded with MediaRecorder, so the committed file is reproducible from this
 * script instead of coming from a video editor. Needs Chromium at /usr/bin/chromium (or CHROMIUM_PATH).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const executablePath = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const output = join(import.meta.dirname, "..", "rooms", "arena", "assets", "animations", "slayer_gold.webm");

const browser = await chromium.launch({ executablePath, headless: true }).catch((error: unknown) => {
  console.error(`cannot start Chromium at ${executablePath} (set CHROMIUM_PATH, or apt-get install chromium): ${String(error)}`);
  process.exit(1);
});
try {
  const page = await browser.newPage();
  // The whole animation runs in the page: a canvas, its captureStream, a MediaRecorder for 2 s.
  const base64 = await page.evaluate(async () => {
    const size = 240;
    const durationMs = 2_000;
    const canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    document.body.append(canvas);
    const context = canvas.getContext("2d");
    if (context === null) throw new Error("no 2d canvas context");
    const center = size / 2;
    // Sparks with fixed pseudo-random directions, so every render draws the same burst.
    let seed = 7;
    const random = (): number => ((seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647);
    const sparks = Array.from({ length: 48 }, () => ({ angle: random() * Math.PI * 2, speed: 0.55 + random() * 0.45, size: 1.5 + random() * 2.5 }));

    const draw = (t: number): void => {
      const ease = 1 - (1 - Math.min(t, 1)) ** 3;
      context.fillStyle = "#15121f";
      context.fillRect(0, 0, size, size);
      // Rotating rays.
      context.save();
      context.translate(center, center);
      context.rotate(t * 1.2);
      const rays = 12;
      for (let i = 0; i < rays; i += 1) {
        context.rotate((Math.PI * 2) / rays);
        const gradient = context.createLinearGradient(0, 0, 0, -center);
        gradient.addColorStop(0, `rgba(255, 214, 90, ${0.55 * (1 - t * 0.5)})`);
        gradient.addColorStop(1, "rgba(255, 214, 90, 0)");
        context.fillStyle = gradient;
        context.beginPath();
        context.moveTo(0, 0);
        context.lineTo(-10 - 8 * ease, -center * (0.4 + 0.6 * ease));
        context.lineTo(10 + 8 * ease, -center * (0.4 + 0.6 * ease));
        context.closePath();
        context.fill();
      }
      context.restore();
      // Expanding shock ring.
      context.strokeStyle = `rgba(255, 236, 150, ${Math.max(0, 1 - t * 1.3)})`;
      context.lineWidth = 6 * (1 - Math.min(t, 1)) + 1;
      context.beginPath();
      context.arc(center, center, 20 + ease * (center - 24), 0, Math.PI * 2);
      context.stroke();
      // Glowing core, pulsing.
      const core = context.createRadialGradient(center, center, 0, center, center, 60);
      const pulse = 0.8 + 0.2 * Math.sin(t * Math.PI * 6);
      core.addColorStop(0, `rgba(255, 250, 220, ${pulse})`);
      core.addColorStop(0.35, `rgba(255, 200, 40, ${0.85 * pulse})`);
      core.addColorStop(1, "rgba(255, 170, 0, 0)");
      context.fillStyle = core;
      context.beginPath();
      context.arc(center, center, 60, 0, Math.PI * 2);
      context.fill();
      // Sparks flying out and fading.
      for (const spark of sparks) {
        const distance = ease * spark.speed * (center - 8);
        context.fillStyle = `rgba(255, ${200 + Math.round(55 * spark.speed)}, 120, ${Math.max(0, 1 - t)})`;
        context.beginPath();
        context.arc(center + Math.cos(spark.angle) * distance, center + Math.sin(spark.angle) * distance, spark.size, 0, Math.PI * 2);
        context.fill();
      }
    };

    const stream = canvas.captureStream(30);
    const mimeType = MediaRecorder.isTypeSupported("video/webm;codecs=vp9") ? "video/webm;codecs=vp9" : "video/webm;codecs=vp8";
    const recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 600_000 });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise<void>((resolve) => (recorder.onstop = () => resolve()));
    draw(0);
    recorder.start();
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const frame = (): void => {
        const elapsed = performance.now() - started;
        draw(elapsed / durationMs);
        if (elapsed >= durationMs) resolve();
        else requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
    });
    recorder.stop();
    await stopped;
    const bytes = new Uint8Array(await new Blob(chunks, { type: "video/webm" }).arrayBuffer());
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary);
  });
  const webm = Buffer.from(base64, "base64");
  writeFileSync(output, webm);
  console.log(`wrote ${output} (${webm.length} bytes)`);
} finally {
  await browser.close();
}
