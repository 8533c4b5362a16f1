import type confetti from "canvas-confetti";
import type { PreviewMessage, UnlockedMessage } from "../src/protocol/client-messages.ts";

/** An unlock as the presenter shows it: pushed by the server, or a preview (`preview: true`). */
export type PresentedUnlock = UnlockedMessage | PreviewMessage;

/** What an animation gets to play with. */
export interface AnimationContext {
  readonly unlock: PresentedUnlock;
  /** The toast showing this unlock (`.cp-toast`, with `.cp-toast-media` holding the icon). */
  readonly toast: HTMLElement;
  /** The presenter's full-window canvas (`canvas.cp-confetti`), created on first use. */
  readonly canvas: HTMLCanvasElement;
  /** canvas-confetti bound to that canvas. */
  readonly confetti: confetti.CreateTypes;
  /** An asset path from a definition, resolved against the presenter's `assetBase`. */
  asset(path: string): string;
  /** Aborted when the toast is dismissed or the presenter destroyed: stop, and resolve. */
  readonly signal: AbortSignal;
}

/**
 * A custom unlock animation, registered by name (`presenter.registerAnimation("dragon", play)`) and named
 * by a milestone's `"animation": { "kind": "custom", "name": "dragon" }`. The next unlock's animation
 * starts when the returned promise settles (or after the presenter's `maxAnimationMs`).
 */
export type UnlockAnimation = (context: AnimationContext) => void | Promise<void>;

/** The default: a burst of confetti over the whole window. */
export const confettiAnimation: UnlockAnimation = async (context) => {
  // The presenter decides about reduced motion (its `reducedMotion` option may overrule the system's).
  await context.confetti({ particleCount: 140, spread: 80, startVelocity: 45, origin: { x: 0.5, y: 0.35 }, disableForReducedMotion: false });
};

/**
 * A webm clip in the toast, muted (so browsers let it autoplay) and inline. If it cannot be loaded or
 * played, the milestone's icon shows instead.
 */
export function webmAnimation(src: string): UnlockAnimation {
  return (context) =>
    new Promise<void>((resolve) => {
      const media = context.toast.querySelector(".cp-toast-media");
      const icon = context.toast.querySelector<HTMLImageElement>(".cp-toast-icon");
      if (media === null) {
        resolve();
        return;
      }
      const video = context.toast.ownerDocument.createElement("video");
      video.className = "cp-animation-video";
      // Set before the source: autoplay is allowed only for muted videos.
      video.muted = true;
      video.defaultMuted = true;
      video.setAttribute("muted", "");
      video.autoplay = true;
      video.playsInline = true;
      video.setAttribute("playsinline", "");
      video.setAttribute("aria-hidden", "true");
      video.src = context.asset(src);
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        resolve();
      };
      const fallBack = (): void => {
        video.remove();
        if (icon !== null) icon.hidden = false;
        finish();
      };
      video.addEventListener("ended", finish, { once: true });
      video.addEventListener("error", fallBack, { once: true });
      context.signal.addEventListener("abort", finish, { once: true });
      if (icon !== null) icon.hidden = true;
      media.append(video);
      // A refused autoplay (a browser policy) rejects play(): show the icon rather than a still frame.
      video.play()?.catch((error: unknown) => {
        if (!(error instanceof DOMException && error.name === "AbortError")) fallBack();
      });
    });
}
