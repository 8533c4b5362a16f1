import type pg from "pg";

/**
 * A client taken from the pool for a transaction. While it is checked out the pool does not listen to
 * it, so a connection dropped under it (PostgreSQL restarted, a network cut) would be an 'error' event
 * nobody handles: an uncaught exception that stops the game server. Here it is listened to (the query
 * in flight fails with it anyway), and `release` hands a broken client back as broken, so the pool
 * discards it instead of lending it again.
 */
export async function checkOut(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: () => void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken = error;
  };
  client.on("error", onError);
  return {
    client,
    release: () => {
      client.removeListener("error", onError);
      client.release(broken);
    },
  };
}
