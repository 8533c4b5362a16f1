/** Items or currency granted when a milestone is claimed (or at once, with `autoClaim`). */
export interface Reward {
  readonly item: string;
  readonly quantity: number;
}

/**
 * How the client presents an unlock: canvas confetti (the default), a webm clip, or an animation the
 * game registered under a name.
 */
export type Animation =
  | { readonly kind: "confetti" }
  | { readonly kind: "webm"; readonly src: string }
  | { readonly kind: "custom"; readonly name: string };
