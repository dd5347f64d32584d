import assert from "node:assert/strict";
import { join } from "node:path";
import { deadLetterOf, JsonlDeadLetters } from "./dead_letter.ts";
import { createMessage, parseJson } from "./message.ts";

Deno.test("JsonlDeadLetters writes one replayable line per dead letter", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "nested", "dead.jsonl");
    const sink = new JsonlDeadLetters(path);
    const body = parseJson('{"big":123456789012345678901234567890}');
    await Promise.all([
      sink.write(deadLetterOf(createMessage({ id: "a", body }), [
        { destination: "db", error: new Error("down\nhard"), attempts: 3 },
      ])),
      sink.write(deadLetterOf(createMessage({ id: "b", body: "x" }), [])),
    ]);
    await sink.close();
    await sink.close();

    const lines = (await Deno.readTextFile(path)).trim().split("\n");
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]!);
    assert.equal(first.message.id, "a");
    assert.deepEqual(first.reasons, [
      { destination: "db", error: "Error: down hard", attempts: 3 },
    ]);
    assert.match(lines[0]!, /"big":123456789012345678901234567890/);
    await assert.rejects(
      sink.write(deadLetterOf(createMessage({ id: "c", body: 1 }), [])),
      /the sink ".*dead\.jsonl" is closed/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JsonlDeadLetters.open() names a path that cannot be written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const blocker = join(dir, "file");
    await Deno.writeTextFile(blocker, "");
    const sink = new JsonlDeadLetters(join(blocker, "dead.jsonl"));
    await assert.rejects(
      sink.open(),
      /Cannot open dead-letter file ".*file\/dead\.jsonl"/,
    );
    await sink.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
