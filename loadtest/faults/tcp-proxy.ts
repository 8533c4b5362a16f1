import { createServer, connect, type Server, type Socket } from "node:net";

/**
 * A small TCP proxy for fault injection, loopback only: 127.0.0.1:<port> -> 127.0.0.1:<target>.
 * - `delay(ms)`: every chunk waits `ms` in each direction (order kept);
 * - `cut()`: resets every open connection and refuses new ones until `restore()`;
 * - `reset()`: resets the open connections once (new ones are accepted).
 * Bounded: at most `maxConnections` at once, and it closes itself after `lifetimeMs` whatever happens.
 */
export interface TcpProxy {
  readonly port: number;
  readonly url: (scheme: string, path?: string) => string;
  delay(ms: number): void;
  cut(): void;
  reset(): void;
  restore(): void;
  stats(): { connections: number; resets: number; refused: number };
  close(): Promise<void>;
}

export async function startTcpProxy(options: { targetPort: number; maxConnections?: number; lifetimeMs?: number }): Promise<TcpProxy> {
  const maxConnections = options.maxConnections ?? 200;
  const open = new Set<Socket>();
  let delayMs = 0;
  let cut = false;
  let connections = 0;
  let resets = 0;
  let refused = 0;

  const relay = (from: Socket, to: Socket): void => {
    // A chain of timers keeps the bytes in order while they are delayed.
    let queue: Promise<void> = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      if (delayMs === 0) {
        queue = queue.then(() => void (to.destroyed ? undefined : to.write(chunk)));
        return;
      }
      const wait = delayMs;
      from.pause();
      queue = queue
        .then(() => new Promise<void>((resolve) => setTimeout(resolve, wait)))
        .then(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        });
    });
  };

  const server: Server = createServer((client) => {
    if (cut || open.size >= maxConnections * 2) {
      refused += 1;
      client.resetAndDestroy();
      return;
    }
    connections += 1;
    const upstream = connect(options.targetPort, "127.0.0.1");
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      open.delete(client);
      open.delete(upstream);
      if (!client.destroyed) client.destroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const resetAll = (): void => {
    for (const socket of open) {
      resets += 1;
      socket.resetAndDestroy();
    }
    open.clear();
  };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    clearTimeout(lifetime);
    resetAll();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  // It stops itself: a forgotten proxy never outlives its run.
  const lifetime = setTimeout(() => void close(), options.lifetimeMs ?? 10 * 60_000);
  lifetime.unref();

  return {
    port,
    url: (scheme, path = "") => `${scheme}://127.0.0.1:${port}${path}`,
    delay: (ms) => {
      delayMs = ms;
    },
    cut: () => {
      cut = true;
      resetAll();
    },
    reset: resetAll,
    restore: () => {
      cut = false;
      delayMs = 0;
    },
    stats: () => ({ connections, resets, refused }),
    close,
  };
}
