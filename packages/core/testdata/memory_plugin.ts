// A plugin for the loader's tests: keeps messages in a list, with a
// hand-written Standard Schema for its options.
import {
  definePublisher,
  type Message,
  type StandardIssue,
  type StandardSchemaV1,
} from "@fanout/core";

export interface MemoryOptions {
  label: string;
  limit: number;
}

const schema: StandardSchemaV1<unknown, MemoryOptions> = {
  "~standard": {
    version: 1,
    vendor: "fanout-tests",
    validate(value) {
      const v = value as Record<string, unknown>;
      const issues: StandardIssue[] = [];
      for (const key of Object.keys(v ?? {})) {
        if (key !== "label" && key !== "limit") {
          issues.push({ message: "unknown option", path: [key] });
        }
      }
      if (typeof v?.label !== "string") {
        issues.push({ message: "must be a string", path: ["label"] });
      }
      const limit = v?.limit ?? 10;
      if (typeof limit !== "number" || limit < 1) {
        issues.push({
          message: "must be a number of at least 1",
          path: ["limit"],
        });
      }
      return issues.length > 0
        ? { issues }
        : { value: { label: v.label as string, limit: limit as number } };
    },
  },
};

export const received: Message[] = [];

export default definePublisher({
  name: "memory",
  options: schema,
  create(options) {
    return {
      publish(message) {
        if (received.length >= options.limit) {
          return Promise.reject(new Error(`${options.label} is full`));
        }
        received.push(message);
        return Promise.resolve();
      },
      close() {
        return Promise.resolve();
      },
    };
  },
});
