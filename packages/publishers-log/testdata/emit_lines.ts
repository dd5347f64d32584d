/**
 * Child process for the stdio tests: writes hostile messages to the target
 * named by the first argument in the format named by the second.
 *
 * @module
 */
import { createMessage, parseJson } from "@fanout/core";
import { createLogPublisher } from "../mod.ts";

const target = Deno.args[0] as "stdout" | "stderr";
const format = Deno.args[1] as "pretty" | "json";
const count = Number(Deno.args[2] ?? "3");

const log = await createLogPublisher({ target, format }, {
  destination: "pipe",
});
const messages = Array.from({ length: count }, (_, i) =>
  createMessage({
    id: `m${i}`,
    type: "hostile\r\n",
    body: parseJson(
      `{"n":12345678901234567890,"s":"a\\nb\\rc\\u001b[31mred\\u009b2J\\u2028","i":${i}}`,
    ),
  }));
await log.publish(messages[0]!);
await log.publishBatch(messages.slice(1));
await log.close();
