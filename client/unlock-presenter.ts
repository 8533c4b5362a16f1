import confetti from "canvas-confetti";
import type { Reward } from "../src/model/milestone.ts";
import type { Rarity } from "../src/model/rarity.ts";
import type { SeriesPosition } from "../src/model/series-position.ts";
import { confettiAnimation, webmAnimation, type AnimationContext, type PresentedUnlock, type UnlockAnimation } from "./animations.ts";
import { injectPresenterStyles } from "./presenter-styles.ts";
import type { ProgressionClient } from "./progression-client.ts";
import { SerialQueue } from "./serial-queue.ts";

/** The presenter's visible words, for games in other languages. */
export interface PresenterLabels {
  readonly claim: string;
  readonly claimed: string;
  readonly dismiss: string;
  readonly preview: string;
  /** The accessible name of the toast region. */
  readonly region: string;
  /** A tier's place in its series; `{order}` and `{of}` are filled in. */
  readonly seriesTier: string;
  /** The next tier; `{title}` and `{target}` are filled in. */
  readonly seriesNext: string;
  /** The next tier when it is a hidden one. */
  readonly seriesNextHidden: string;
  /** The rarity line; `{percent}` is filled in. Shown only when the server knows it and someone was active. */
  readonly rarity: string;
}

export const defaultPresenterLabels: PresenterLabels = {
  claim: "Claim",
  claimed: "Claimed",
  dismiss: "Dismiss",
  preview: "Preview",
  region: "Unlocks",
  seriesTier: "Tier {order} of {of}",
  seriesNext: "next: {title} ({target})",
  seriesNextHidden: "next: a hidden tier",
  rarity: "Earned by {percent}% of players",
};

export interface UnlockPresenterOptions {
  /** Where the toast region goes. @default document.body (then it floats top-right over the page) */
  readonly container?: HTMLElement;
  /** Prefixed to relative icon and webm paths of the definitions, e.g. "/assets/". @default "" */
  readonly assetBase?: string;
  /** Custom animations by name (more with `registerAnimation`). */
  readonly animations?: Readonly<Record<string, UnlockAnimation>>;
  /** true: no confetti, no video, whatever the system says; false: always animate. @default the `prefers-reduced-motion` media query */
  readonly reducedMotion?: boolean;
  /** How long a toast stays (ms). A toast whose Claim button waits stays until claimed or dismissed. @default 6000 */
  readonly durationMs?: number;
  /** The longest one animation holds back the next toast (ms). @default 8000 */
  readonly maxAnimationMs?: number;
  /** Handles the Claim button instead of the attached progression's `claim` (reject to show the reason). */
  readonly onClaim?: (unlock: PresentedUnlock) => Promise<unknown>;
  readonly labels?: Partial<PresenterLabels>;
}

export interface UnlockPresenter {
  /** Shows every unlock and preview pushed to this progression; its Claim button claims through it. Returns the detach function. */
  attach(progression: Pick<ProgressionClient, "on" | "claim">): () => void;
  /** Queues a toast for an unlock or a preview (e.g. an admin's preview, with no server involved). */
  show(unlock: PresentedUnlock): void;
  registerAnimation(name: string, animation: UnlockAnimation): void;
  /** Removes the toasts, the canvas and every listener. */
  destroy(): void;
}

type Claim = (unlock: PresentedUnlock) => Promise<unknown>;

interface Queued {
  readonly unlock: PresentedUnlock;
  readonly claim: Claim | undefined;
}

const DEFAULT_DURATION_MS = 6000;
const DEFAULT_MAX_ANIMATION_MS = 8000;

/**
 * Unlock toasts and their animations, framework-free. Toasts queue up: each one appears with its animation
 * (confetti, a webm clip, or a custom one by name) once the previous animation has finished, then stays
 * `durationMs` (or until claimed). Toasts have `role="status"`, so screen readers announce them.
 */
export function createUnlockPresenter(options: UnlockPresenterOptions = {}): UnlockPresenter {
  const document = options.container?.ownerDocument ?? globalThis.document;
  const labels: PresenterLabels = { ...defaultPresenterLabels, ...options.labels };
  const durationMs = options.durationMs ?? DEFAULT_DURATION_MS;
  const maxAnimationMs = options.maxAnimationMs ?? DEFAULT_MAX_ANIMATION_MS;
  const animations = new Map<string, UnlockAnimation>(Object.entries(options.animations ?? {}));
  const detachers = new Set<() => void>();
  const toasts = new Set<ShownToast>();
  let attachedClaim: Claim | undefined;
  let confettiCanvas: { canvas: HTMLCanvasElement; fire: confetti.CreateTypes } | undefined;

  injectPresenterStyles(document);
  const region = document.createElement("div");
  region.className = options.container === undefined ? "cp-toasts" : "cp-toasts cp-toasts-contained";
  region.setAttribute("role", "region");
  region.setAttribute("aria-label", labels.region);
  (options.container ?? document.body).append(region);

  const asset = (path: string): string => resolveAsset(options.assetBase ?? "", path);

  const ensureConfetti = (): { canvas: HTMLCanvasElement; fire: confetti.CreateTypes } => {
    if (confettiCanvas === undefined) {
      const canvas = document.createElement("canvas");
      canvas.className = "cp-confetti";
      canvas.setAttribute("aria-hidden", "true");
      document.body.append(canvas);
      confettiCanvas = { canvas, fire: confetti.create(canvas, { resize: true, useWorker: false }) };
    }
    return confettiCanvas;
  };

  const reducedMotion = (): boolean =>
    options.reducedMotion ?? (typeof globalThis.matchMedia === "function" && globalThis.matchMedia("(prefers-reduced-motion: reduce)").matches);

  const animationFor = (unlock: PresentedUnlock): UnlockAnimation => {
    const animation = unlock.animation;
    if (animation.kind === "webm") return webmAnimation(animation.src);
    if (animation.kind === "custom") {
      const custom = animations.get(animation.name);
      if (custom !== undefined) return custom;
      console.warn(
        `colyseus-progression: milestone "${unlock.code}" names the custom animation "${animation.name}", which is not registered; ` +
          `playing confetti instead (call presenter.registerAnimation("${animation.name}", play) or pass it in createUnlockPresenter({ animations }))`,
      );
    }
    return confettiAnimation;
  };

  const present = async ({ unlock, claim }: Queued): Promise<void> => {
    const reduced = reducedMotion();
    const toast = new ShownToast(document, unlock, { labels, asset, reduced, durationMs, claim, onRemoved: (shown) => toasts.delete(shown) });
    toasts.add(toast);
    region.append(toast.element);
    if (reduced) return;
    const { canvas, fire } = ensureConfetti();
    const context: AnimationContext = { unlock, toast: toast.element, canvas, confetti: fire, asset, signal: toast.signal };
    await settleWithin(Promise.resolve(animationFor(unlock)(context)), maxAnimationMs, toast.signal);
  };

  const queue = new SerialQueue<Queued>(present, (error, item) => {
    console.error(`colyseus-progression: the animation of milestone "${item.unlock.code}" failed`, error);
  });

  return {
    attach(progression) {
      const claim: Claim = (unlock) => progression.claim(unlock.code);
      attachedClaim = claim;
      const unsubscribes = [
        progression.on("unlock", (unlock) => queue.enqueue({ unlock, claim: options.onClaim ?? claim })),
        progression.on("preview", (preview) => queue.enqueue({ unlock: preview, claim: undefined })),
        // Claimed through the progression another way (e.g. the game's own Claim button): the toast stops offering it.
        progression.on("claimed", ({ code }) => {
          for (const toast of toasts) if (toast.code === code) toast.markClaimed();
        }),
      ];
      const detach = (): void => {
        for (const unsubscribe of unsubscribes) unsubscribe();
        if (attachedClaim === claim) attachedClaim = undefined;
        detachers.delete(detach);
      };
      detachers.add(detach);
      return detach;
    },
    show(unlock) {
      queue.enqueue({ unlock, claim: options.onClaim ?? attachedClaim });
    },
    registerAnimation(name, animation) {
      animations.set(name, animation);
    },
    destroy() {
      queue.stop();
      for (const detach of [...detachers]) detach();
      for (const toast of [...toasts]) toast.remove();
      region.remove();
      if (confettiCanvas !== undefined) {
        confettiCanvas.fire.reset();
        confettiCanvas.canvas.remove();
        confettiCanvas = undefined;
      }
    },
  };
}

interface ToastSettings {
  readonly labels: PresenterLabels;
  readonly asset: (path: string) => string;
  readonly reduced: boolean;
  readonly durationMs: number;
  readonly claim: Claim | undefined;
  readonly onRemoved: (toast: ShownToast) => void;
}

/** One toast on screen: its element, its dismiss timer, its Claim button. */
class ShownToast {
  readonly element: HTMLElement;
  readonly code: string;
  private claimButton: HTMLButtonElement | undefined;
  private readonly aborter = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly settings: ToastSettings;

  constructor(document: Document, unlock: PresentedUnlock, settings: ToastSettings) {
    this.settings = settings;
    this.code = unlock.code;
    const preview = "preview" in unlock && unlock.preview;
    const element = document.createElement("div");
    element.className = "cp-toast";
    element.setAttribute("role", "status");
    element.setAttribute("aria-live", "polite");
    element.dataset["code"] = unlock.code;
    element.dataset["animation"] = unlock.animation.kind;
    if (unlock.animation.kind === "custom") element.dataset["animationName"] = unlock.animation.name;
    element.dataset["preview"] = String(preview);
    element.dataset["reducedMotion"] = String(settings.reduced);
    this.element = element;

    const media = append(element, "div", "cp-toast-media");
    const icon = append(media, "img", "cp-toast-icon");
    icon.alt = "";
    // A missing icon leaves an empty square, not the browser's broken-image glyph.
    icon.addEventListener("error", () => (icon.style.visibility = "hidden"), { once: true });
    if (unlock.icon === "") icon.hidden = true;
    else icon.src = settings.asset(unlock.icon);

    const body = append(element, "div", "cp-toast-body");
    if (preview) append(body, "span", "cp-toast-badge").textContent = settings.labels.preview;
    append(body, "div", "cp-toast-title").textContent = unlock.title;
    append(body, "div", "cp-toast-description").textContent = unlock.description;
    if (unlock.rewards.length > 0) append(body, "div", "cp-toast-rewards").textContent = rewardsText(unlock.rewards);
    const series = seriesText(unlock.series, settings.labels);
    if (series !== "") append(body, "div", "cp-toast-series").textContent = series;
    const rarity = rarityText(unlock.rarity, settings.labels);
    if (rarity !== "") append(body, "div", "cp-toast-rarity").textContent = rarity;
    const actions = append(body, "div", "cp-toast-actions");

    const claimWaits = !preview && !unlock.claimed && unlock.rewards.length > 0 && settings.claim !== undefined;
    if (claimWaits && settings.claim !== undefined) this.addClaimButton(body, actions, unlock, settings.claim);
    const dismiss = append(actions, "button", "cp-toast-dismiss");
    dismiss.type = "button";
    dismiss.textContent = settings.labels.dismiss;
    dismiss.addEventListener("click", () => this.remove());
    if (!claimWaits) this.startTimer();
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  remove(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.aborter.abort();
    this.element.remove();
    this.settings.onRemoved(this);
  }

  private startTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.settings.durationMs <= 0 || !Number.isFinite(this.settings.durationMs)) return;
    this.timer = setTimeout(() => this.remove(), this.settings.durationMs);
  }

  /** The Claim button is replaced by "Claimed", and the toast goes after `durationMs`. */
  markClaimed(): void {
    if (this.claimButton === undefined) return;
    const claimed = this.element.ownerDocument.createElement("div");
    claimed.className = "cp-toast-claimed";
    claimed.textContent = this.settings.labels.claimed;
    this.claimButton.replaceWith(claimed);
    this.claimButton = undefined;
    this.element.querySelector(".cp-toast-error")?.remove();
    this.startTimer();
  }

  private addClaimButton(body: HTMLElement, actions: HTMLElement, unlock: PresentedUnlock, claim: Claim): void {
    const button = append(actions, "button", "cp-toast-claim");
    button.type = "button";
    button.textContent = this.settings.labels.claim;
    this.claimButton = button;
    const error = append(body, "div", "cp-toast-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    button.addEventListener("click", () => {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      error.hidden = true;
      claim(unlock).then(
        () => this.markClaimed(),
        (failure: unknown) => {
          button.disabled = false;
          button.removeAttribute("aria-busy");
          error.textContent = failure instanceof Error ? failure.message : String(failure);
          error.hidden = false;
        },
      );
    });
  }
}

/** "2 × potion, 50 × gold" */
export function rewardsText(rewards: readonly Reward[]): string {
  return rewards.map((reward) => `${reward.quantity} × ${reward.item}`).join(", ");
}

/** "Tier 2 of 3 · next: Slayer III (1000)"; "" outside a series. */
export function seriesText(series: SeriesPosition | null | undefined, labels: PresenterLabels = defaultPresenterLabels): string {
  if (series == null) return "";
  const tier = fill(labels.seriesTier, { order: series.order, of: series.of });
  if (series.next === null) return tier;
  const next = series.next.masked ? labels.seriesNextHidden : fill(labels.seriesNext, { title: series.next.title, target: series.next.target });
  return `${tier} · ${next}`;
}

/** "Earned by 3.2% of players"; "" when unknown or nobody was active (a share of no one says nothing). */
export function rarityText(rarity: Rarity | null | undefined, labels: PresenterLabels = defaultPresenterLabels): string {
  if (rarity == null || rarity.activePlayers <= 0) return "";
  // Held by someone but rounded to 0: say so rather than "0%".
  const percent = rarity.holders > 0 && rarity.percent < 0.1 ? "<0.1" : String(rarity.percent);
  return fill(labels.rarity, { percent });
}

function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (placeholder, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : placeholder));
}

/** Relative paths get the base; absolute URLs, root paths and data/blob URLs are kept as they are. */
export function resolveAsset(base: string, path: string): string {
  if (base === "" || /^([a-z][a-z0-9+.-]*:|\/)/i.test(path)) return path;
  return base.endsWith("/") ? `${base}${path}` : `${base}/${path}`;
}

function append<Tag extends keyof HTMLElementTagNameMap>(parent: HTMLElement, tag: Tag, className: string): HTMLElementTagNameMap[Tag] {
  const element = parent.ownerDocument.createElement(tag);
  element.className = className;
  parent.append(element);
  return element;
}

/** Waits for the animation, at most `limitMs`, and no longer once its toast is gone. */
function settleWithin(animation: Promise<void>, limitMs: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, limitMs);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
    animation.then(done, (error: unknown) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
}
