import { describe, expect, it } from "vitest";
import { SerialQueue } from "../../client/serial-queue.ts";

/** The presenter's toast queue: one animation at a time, in order, and a failure does not stop it. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve: () => void = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("SerialQueue", () => {
  it("runs one item at a time, in the order they came", async () => {
    const started: string[] = [];
    const gates = new Map([["a", deferred()], ["b", deferred()], ["c", deferred()]]);
    const queue = new SerialQueue<string>((item) => {
      started.push(item);
      return gates.get(item)?.promise;
    }, () => {});
    queue.enqueue("a");
    queue.enqueue("b");
    queue.enqueue("c");
    expect(started).toEqual(["a"]);
    expect(queue.pending).toBe(2);

    gates.get("a")?.resolve();
    await expect.poll(() => started).toEqual(["a", "b"]);
    gates.get("b")?.resolve();
    await expect.poll(() => started).toEqual(["a", "b", "c"]);
    expect(queue.busy).toBe(true);
    gates.get("c")?.resolve();
    await queue.idle();
    expect(queue.busy).toBe(false);
  });

  it("reports a failing item and goes on with the next", async () => {
    const errors: Array<[unknown, string]> = [];
    const done: string[] = [];
    const queue = new SerialQueue<string>(
      (item) => {
        if (item === "throws") throw new Error("sync failure");
        if (item === "rejects") return Promise.reject(new Error("async failure"));
        done.push(item);
        return undefined;
      },
      (error, item) => errors.push([error, item]),
    );
    for (const item of ["throws", "rejects", "fine"]) queue.enqueue(item);
    await queue.idle();
    expect(done).toEqual(["fine"]);
    expect(errors.map(([error, item]) => [(error as Error).message, item])).toEqual([
      ["sync failure", "throws"],
      ["async failure", "rejects"],
    ]);
  });

  it("stop() drops what waits and refuses new items; the running one finishes", async () => {
    const gate = deferred();
    const started: string[] = [];
    const queue = new SerialQueue<string>((item) => {
      started.push(item);
      return item === "first" ? gate.promise : undefined;
    }, () => {});
    queue.enqueue("first");
    queue.enqueue("second");
    queue.stop();
    queue.enqueue("third");
    gate.resolve();
    await queue.idle();
    expect(started).toEqual(["first"]);
  });
});
