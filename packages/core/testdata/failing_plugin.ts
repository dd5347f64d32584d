// A plugin for the loader's tests whose factory fails.
import { definePublisher } from "@fanout/core";

export default definePublisher({
  name: "failing",
  options: {
    "~standard": {
      version: 1,
      vendor: "fanout-tests",
      validate: (v) => ({ value: v }),
    },
  },
  create() {
    throw new Error("Cannot open the device: it is gone");
  },
});
