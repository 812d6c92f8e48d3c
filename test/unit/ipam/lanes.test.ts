import { describe, expect, it } from "@jest/globals";
import { KeyedLanes } from "../../../ipam/lanes.js";

describe("KeyedLanes", () => {
  const gate = (): { open: () => void; wait: Promise<void> } => {
    let open = (): void => undefined;
    const wait = new Promise<void>((resolve) => (open = resolve));
    return { open, wait };
  };

  it("runs one key's tasks one after another, even after a rejection, and other keys at once", async () => {
    const lanes = new KeyedLanes();
    const order: string[] = [];
    const first = gate();
    const a1 = lanes.run("a", async () => {
      order.push("a1 start");
      await first.wait;
      order.push("a1 end");
      throw new Error("a1 failed");
    });
    const a2 = lanes.run("a", () => Promise.resolve(order.push("a2")));
    const b1 = lanes.run("b", () => Promise.resolve(order.push("b1")));
    await b1;
    expect(order).toEqual(["a1 start", "b1"]);
    first.open();
    await expect(a1).rejects.toThrow("a1 failed");
    await a2;
    expect(order).toEqual(["a1 start", "b1", "a1 end", "a2"]);
    await lanes.idle();
  });

  it("is idle once every task handed in has settled", async () => {
    const lanes = new KeyedLanes();
    const g = gate();
    let done = false;
    void lanes.run("a", () => g.wait.then(() => (done = true)));
    const idle = lanes.idle().then(() => done);
    g.open();
    expect(await idle).toBe(true);
  });
});
