import { Client } from "@colyseus/sdk";
import { attachProgression, createUnlockPresenter } from "colyseus-progression/client";

// The game server that served this page (the demo server serves one at http://localhost:2567/).
const room = await new Client(`ws://${location.host}`).joinOrCreate("arena", { playerId: "player-1", locale: "en" });
const progression = attachProgression(room); // milestones, inventory and holds, from the snapshot and every push
const presenter = createUnlockPresenter({ assetBase: "/assets/" }); // toasts with confetti, a webm clip or your own animation
presenter.attach(progression); // every unlock shows; its Claim button claims the rewards
presenter.registerAnimation("skaven_banner", async ({ toast }) => {
  await toast.animate([{ transform: "scale(0.6)" }, { transform: "none" }], 400).finished;
});

const { milestones } = await progression.ready;
console.log(milestones.map((milestone) => `${milestone.title}: ${milestone.current}/${milestone.target}`));
progression.on("change", (state) => console.log("gold", progression.balance("gold").free, "open holds", state.holds.length));
