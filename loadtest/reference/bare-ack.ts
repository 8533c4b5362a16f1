/**
 * The latency reference (`npm run loadtest -- --room bare`): a bot's event that crosses one of its thresholds
 * carries `acks: [codes]`, and the bare room answers it at once with this message, `{ codes }`. Send -> ack
 * is what Colyseus alone takes on the same machine, bots and transport; the arena's send -> unlock is
 * reported against it.
 */
export const bareAckMessage = "ack";
