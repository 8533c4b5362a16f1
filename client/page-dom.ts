/**
 * The two DOM helpers the shipped pages (the admin tab, the demo page) build their markup with. Not part of
 * the client kit's API (`client/index.ts` does not export them).
 */

/** The element with `id` in the page's HTML; a missing one is a bug in that page, named by `page`. */
export function elementOf<T extends HTMLElement>(page: string, id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`${page}: no element #${id}`);
  return found as T;
}

/** A new element with its attributes and text. */
export function create<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}
