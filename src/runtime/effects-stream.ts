import type { Effects } from "../model/effects.ts";

export type EffectsListener = (effects: Effects) => void;

/**
 * The one stream every state change of the engine is announced on (see `Effects`). Listeners run
 * synchronously, in registration order, right after the change: they must be quick (the push fan-out
 * sends, the domain-event bus enqueues). A listener that throws is reported and never stops the others
 * or the change that was announced.
 */
export class EffectsStream {
  private listeners: readonly EffectsListener[] = [];
  private readonly onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.onListenerError = onListenerError;
  }

  /** Returns the function that stops this listener. */
  subscribe(listener: EffectsListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((candidate) => candidate !== listener);
    };
  }

  publish(effects: Effects): void {
    if (effects.subjects.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(effects);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
