/**
 * The unlock presenter's stylesheet, injected once per document. Every colour, radius, font and the
 * stacking order is a CSS variable whose default sits in `:where(:root)` (specificity zero), so a game's own
 * `:root { --cp-accent: #e91e63; }` wins wherever it is declared.
 */
export const presenterCssVariables = {
  "--cp-toast-bg": "#1f2430",
  "--cp-toast-fg": "#f5f6fa",
  "--cp-accent": "#ffc83d",
  "--cp-radius": "12px",
  "--cp-font": "system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif",
  "--cp-z": "2147483000",
} as const;

export type PresenterCssVariable = keyof typeof presenterCssVariables;

const STYLE_MARKER = "data-colyseus-progression";

export const presenterStyles = `
:where(:root) {
${Object.entries(presenterCssVariables).map(([name, value]) => `  ${name}: ${value};`).join("\n")}
}
.cp-toasts {
  position: fixed;
  top: 16px;
  right: 16px;
  z-index: var(--cp-z);
  display: flex;
  flex-direction: column;
  gap: 10px;
  width: min(360px, calc(100vw - 32px));
  pointer-events: none;
  font-family: var(--cp-font);
}
.cp-toasts.cp-toasts-contained {
  position: relative;
  top: auto;
  right: auto;
  z-index: auto;
  width: 100%;
}
.cp-toast {
  pointer-events: auto;
  display: grid;
  grid-template-columns: auto 1fr;
  gap: 12px;
  align-items: start;
  padding: 12px 14px;
  border-radius: var(--cp-radius);
  border-left: 4px solid var(--cp-accent);
  background: var(--cp-toast-bg);
  color: var(--cp-toast-fg);
  box-shadow: 0 8px 24px rgb(0 0 0 / 0.35);
  animation: cp-toast-in 220ms ease-out;
}
.cp-toast[data-reduced-motion="true"] { animation: none; }
.cp-toast-media { min-width: 56px; min-height: 56px; display: grid; place-items: center; }
.cp-toast-icon, .cp-animation-video { width: 56px; height: 56px; object-fit: contain; border-radius: calc(var(--cp-radius) / 2); }
/* A clip is the celebration itself: larger than the icon it stands in for. */
.cp-animation-video { width: var(--cp-video-size, 112px); height: var(--cp-video-size, 112px); }
.cp-toast-icon[hidden], .cp-animation-video[hidden] { display: none; }
.cp-toast-body { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.cp-toast-badge {
  align-self: flex-start;
  padding: 1px 8px;
  border-radius: 999px;
  background: var(--cp-accent);
  color: var(--cp-toast-bg);
  font-size: 0.7rem;
  font-weight: 700;
  letter-spacing: 0.04em;
  text-transform: uppercase;
}
.cp-toast-title { font-weight: 700; font-size: 1rem; }
.cp-toast-description { font-size: 0.875rem; opacity: 0.85; }
.cp-toast-rewards { font-size: 0.875rem; color: var(--cp-accent); }
.cp-toast-series, .cp-toast-rarity { font-size: 0.8rem; opacity: 0.75; }
.cp-toast-error { font-size: 0.8rem; color: #ff8a80; }
.cp-toast-claimed { font-size: 0.8rem; color: var(--cp-accent); }
.cp-toast-actions { display: flex; gap: 8px; margin-top: 6px; }
.cp-toast-actions button {
  font: inherit;
  font-size: 0.85rem;
  padding: 4px 12px;
  border-radius: calc(var(--cp-radius) / 2);
  border: 1px solid var(--cp-accent);
  cursor: pointer;
}
.cp-toast-claim { background: var(--cp-accent); color: var(--cp-toast-bg); font-weight: 700; }
.cp-toast-claim:disabled { opacity: 0.6; cursor: progress; }
.cp-toast-dismiss { background: transparent; color: var(--cp-toast-fg); }
.cp-toast-actions button:focus-visible { outline: 2px solid var(--cp-accent); outline-offset: 2px; }
.cp-confetti {
  position: fixed;
  inset: 0;
  width: 100vw;
  height: 100vh;
  pointer-events: none;
  z-index: var(--cp-z);
}
@keyframes cp-toast-in { from { opacity: 0; transform: translateY(-8px); } to { opacity: 1; transform: none; } }
@media (prefers-reduced-motion: reduce) { .cp-toast { animation: none; } }
`;

/** Adds the stylesheet to the document's head unless it is there already. */
export function injectPresenterStyles(document: Document): void {
  if (document.querySelector(`style[${STYLE_MARKER}]`) !== null) return;
  const style = document.createElement("style");
  style.setAttribute(STYLE_MARKER, "");
  style.textContent = presenterStyles;
  // First in the head: the game's own stylesheets come later and override these rules too.
  document.head.prepend(style);
}
