/**
 * `colyseus-progression/client`: the player's side, for the browser (and any JavaScript client). Keeps the
 * progression state of an `@colyseus/sdk` room and shows unlocks as toasts with their animations.
 * Browser-safe: no Node built-ins, no server code; nothing touches the DOM until you create a presenter.
 */
export { attachProgression } from "./progression-client.ts";
export type { AttachProgressionOptions, ClaimOptions, ItemBalance, ProgressionClient, ProgressionEvents } from "./progression-client.ts";
export type { ProgressionState } from "./progression-state.ts";
export type { ProgressionRoom, RoomSignal } from "./client-room.ts";
export { ProgressionRequestError } from "./progression-request-error.ts";

export { createUnlockPresenter, defaultPresenterLabels, rarityText, resolveAsset, rewardsText, seriesText } from "./unlock-presenter.ts";
export type { PresenterLabels, UnlockPresenter, UnlockPresenterOptions } from "./unlock-presenter.ts";
export { confettiAnimation, webmAnimation } from "./animations.ts";
export type { AnimationContext, PresentedUnlock, UnlockAnimation } from "./animations.ts";
export { injectPresenterStyles, presenterCssVariables, presenterStyles } from "./presenter-styles.ts";
export type { PresenterCssVariable } from "./presenter-styles.ts";
export { SerialQueue } from "./serial-queue.ts";

// The wire protocol the server speaks, the same definitions it is built from.
export { ClientRequest, PushMessage } from "../src/protocol/client-messages.ts";
export type {
  ClaimResponse,
  HoldExpiredMessage,
  HoldView,
  InventoryMessage,
  PreviewMessage,
  ProgressMessage,
  ProgressionPushes,
  RejectionReason,
  SnapshotMessage,
  UnlockedMessage,
} from "../src/protocol/client-messages.ts";
export type { Balance } from "../src/model/balance.ts";
export type { HoldState } from "../src/model/hold.ts";
export type { Animation, Reward } from "../src/model/milestone.ts";
export type { MilestoneProgress, MilestoneStatus, RequiredMilestone } from "../src/model/progress.ts";
export type { Rarity } from "../src/model/rarity.ts";
export type { SeriesNext, SeriesPosition } from "../src/model/series-position.ts";
