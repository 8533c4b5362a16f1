/** Typed listeners by event name. A listener that throws does not stop the others nor the state update. */
export class Listeners<Events extends object> {
  private readonly byEvent = new Map<keyof Events, Set<(payload: never) => void>>();

  on<Name extends keyof Events>(event: Name, listener: (payload: Events[Name]) => void): () => void {
    let set = this.byEvent.get(event);
    if (set === undefined) {
      set = new Set();
      this.byEvent.set(event, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<Name extends keyof Events>(event: Name, payload: Events[Name]): void {
    const set = this.byEvent.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: Events[Name]) => void)(payload);
      } catch (error) {
        // Surfaced as an uncaught error (the console, window.onerror) after the other listeners ran.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  clear(): void {
    this.byEvent.clear();
  }
}
