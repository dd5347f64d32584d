import assert from "node:assert/strict";
import type { StandardSchemaV1 as Published } from "@standard-schema/spec";
import type { StandardSchemaV1 } from "./standard_schema.ts";
import { validateWithSchema } from "./plugin.ts";

Deno.test("StandardSchemaV1 stays assignable to and from the published interface", async () => {
  const published: Published<unknown, number> = {
    "~standard": {
      version: 1,
      vendor: "tests",
      validate: (v) =>
        typeof v === "number"
          ? { value: v }
          : { issues: [{ message: "not a number", path: [{ key: "n" }] }] },
    },
  };
  const ours: StandardSchemaV1<unknown, number> = published;
  const back: Published<unknown, number> = ours;

  assert.deepEqual(await validateWithSchema(back, 3), { ok: true, value: 3 });
  assert.deepEqual(await validateWithSchema(ours, "x"), {
    ok: false,
    issues: [{ path: "n", message: "not a number" }],
  });
});
