import type { Room } from "@colyseus/sdk";

/**
 * Leaves a room (consented) and resolves when the server closed it, when the connection was already
 * closed, or after `timeoutMs`. The SDK's `room.leave()` waits for an `onLeave` that has already fired
 * when the server closed the connection first (a hostile frame, a crash), so a bot awaiting it would
 * wait forever.
 */
export async function leaveRoom(room: Room, timeoutMs = 5_000): Promise<void> {
  if (!room.connection.isOpen) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([room.leave(true).then(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
