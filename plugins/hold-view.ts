import type { HoldRecord } from "../src/model/hold.ts";
import type { HoldView } from "../src/protocol/client-messages.ts";

/** A hold as clients see it: the subject and the bookkeeping times stay on the server. */
export function holdViewOf(hold: HoldRecord): HoldView {
  return { holdId: hold.holdId, item: hold.item, quantity: hold.quantity, expiresAt: hold.expiresAt, state: hold.state };
}
