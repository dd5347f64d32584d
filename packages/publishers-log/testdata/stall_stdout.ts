/**
 * Child process for the stalled-pipe test: fills stdout, whose reader is
 * not reading, and checks that timers and another destination still run.
 * Prints a JSON report on stderr.
 *
 * @module
 */
import { createMessage } from "@fanout/core";
import { createLogPublisher } from "../mod.ts";
import { controlledStream } from "./helpers.ts";

const stuck = await createLogPublisher({ target: "stdout", bufferBytes: 4096 });
const other = controlledStream(false);
const healthy = await createLogPublisher({}, { writer: other.stream });

let ticks = 0;
const interval = setInterval(() => ticks++, 5);
const body = { filler: "x".repeat(1000) };
let accepted = 0;
let blocked = false;
for (let i = 0; i < 2000; i++) {
  const publishing = stuck.publish(createMessage({ id: `s${i}`, body }));
  const timer = Promise.withResolvers<boolean>();
  const id = setTimeout(() => timer.resolve(false), 200);
  const done = await Promise.race([publishing.then(() => true), timer.promise]);
  clearTimeout(id);
  if (!done) {
    blocked = true;
    break;
  }
  accepted++;
}
const ticksBefore = ticks;
for (let i = 0; i < 50; i++) {
  await healthy.publish(createMessage({ id: `h${i}`, body: {} }));
}
await healthy.close();
await new Promise((resolve) => setTimeout(resolve, 100));
const report = {
  accepted,
  blocked,
  ticksWhileBlocked: ticks - ticksBefore,
  healthyLines: other.text().split("\n").filter(Boolean).length,
};
await Deno.stderr.write(
  new TextEncoder().encode(JSON.stringify(report) + "\n"),
);
clearInterval(interval);
await stuck.close();
