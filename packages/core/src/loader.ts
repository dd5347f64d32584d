import { getLogger } from "@logtape/logtape";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { FanoutConfig, PublisherConfig } from "./config.ts";
import { ConfigError, describeError, PluginLoadError } from "./errors.ts";
import type { FanOutEvents } from "./events.ts";
import type { Destination } from "./fan_out.ts";
import {
  type PluginContext,
  pluginProblem,
  type PublisherPlugin,
  validateWithSchema,
} from "./plugin.ts";
import { closePublisher, isPublisher, type Publisher } from "./publisher.ts";

/**
 * Options for {@linkcode loadPublishers}.
 *
 * @since 0.1.0
 */
export interface LoadPublishersOptions {
  /**
   * Imports a module. Pass `(specifier) => import(specifier)` from the
   * application so that bare names resolve through the application's own
   * import map and workspace.
   *
   * @default {a dynamic import from this package}
   */
  importModule?: (specifier: string) => Promise<unknown>;
  /** The fan-out's events, handed to every plugin. */
  events: FanOutEvents;
  /** Aborts loading, and later tells plugins that the worker stops. */
  signal?: AbortSignal;
}

/**
 * A destination made from the configuration, with the plugin it came from.
 *
 * @since 0.1.0
 */
export interface LoadedDestination extends Destination {
  /** The plugin definition. */
  readonly plugin: PublisherPlugin;
}

/**
 * Turns a `use` specifier from the configuration into one that `import()`
 * takes: a path (starting with `./`, `../` or `/`) becomes a `file:` URL
 * resolved against the configuration's directory; anything else (workspace
 * or package names, `jsr:`, `npm:`, URLs) stays as it is.
 *
 * @example Resolve a relative path
 * ```ts
 * import { resolveSpecifier } from "@fanout/core";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveSpecifier("./p.ts", "/srv/fanout"), "file:///srv/fanout/p.ts");
 * assert.equal(resolveSpecifier("npm:fanout-x@1", "/srv"), "npm:fanout-x@1");
 * ```
 *
 * @param specifier As written in the configuration.
 * @param baseDir The configuration file's directory.
 * @returns The specifier to import.
 * @since 0.1.0
 */
export function resolveSpecifier(specifier: string, baseDir: string): string {
  if (
    specifier.startsWith("./") || specifier.startsWith("../") ||
    isAbsolute(specifier)
  ) {
    return pathToFileURL(resolve(baseDir, specifier)).href;
  }
  return specifier;
}

/**
 * Imports every plugin the configuration names, checks that each module's
 * default export is a plugin definition, validates each one's options with
 * its schema, and creates the publishers, all before the first message. If
 * any step fails, the publishers already created are closed and the error
 * names the file and field.
 *
 * @example Load the destinations of a configuration
 * ```ts ignore
 * import { EventHub, FanOutPublisher, loadConfig, loadPublishers } from "@fanout/core";
 *
 * const events = new EventHub();
 * const config = await loadConfig("fanout.yaml");
 * const destinations = await loadPublishers(config, {
 *   events,
 *   importModule: (specifier) => import(specifier),
 * });
 * const fanOut = new FanOutPublisher(destinations, { events });
 * ```
 *
 * @param config The configuration.
 * @param options How to import, the events and an abort signal.
 * @returns One destination per configured publisher, in order.
 * @throws {PluginLoadError} If a module cannot be imported, has no valid
 * definition, or its factory fails.
 * @throws {ConfigError} If a plugin's options are invalid, or two
 * destinations share a name.
 * @since 0.1.0
 */
export async function loadPublishers(
  config: FanoutConfig,
  options: LoadPublishersOptions,
): Promise<LoadedDestination[]> {
  const {
    importModule = (specifier: string) => import(specifier),
    events,
    signal = new AbortController().signal,
  } = options;

  const loaded: LoadedDestination[] = [];
  try {
    const plugins = await Promise.all(
      config.publishers.map((entry) =>
        importPlugin(config, entry, importModule)
      ),
    );
    const names = new Map<string, string>();
    for (const [index, entry] of config.publishers.entries()) {
      signal.throwIfAborted();
      const plugin = plugins[index]!;
      const name = entry.name ?? plugin.name;
      const earlier = names.get(name);
      if (earlier) {
        throw new ConfigError(
          config.file,
          `${entry.path}.name`,
          `"${name}" is already used by ${earlier}; give each destination its own name`,
        );
      }
      names.set(name, entry.path);
      const publisher = await createPublisher(config, entry, plugin, name, {
        destination: name,
        logger: getLogger(["fanout", "publishers", plugin.name]),
        signal,
        events,
        baseDir: config.baseDir,
      });
      loaded.push({ name, publisher, policy: entry.policy, plugin });
    }
  } catch (error) {
    await Promise.allSettled(loaded.map((d) => closePublisher(d.publisher)));
    throw error;
  }
  return loaded;
}

async function importPlugin(
  config: FanoutConfig,
  entry: PublisherConfig,
  importModule: (specifier: string) => Promise<unknown>,
): Promise<PublisherPlugin> {
  const field = `${entry.path}.use`;
  let module: unknown;
  try {
    module = await importModule(resolveSpecifier(entry.use, config.baseDir));
  } catch (error) {
    throw new PluginLoadError(
      config.file,
      field,
      entry.use,
      `cannot import the module: ${describeError(error)}`,
      { cause: error },
    );
  }
  const definition = (module as { default?: unknown } | null)?.default;
  if (definition === undefined) {
    throw new PluginLoadError(
      config.file,
      field,
      entry.use,
      "the module has no default export; export default definePublisher({ name, options, create })",
    );
  }
  const problem = pluginProblem(definition);
  if (problem) {
    throw new PluginLoadError(
      config.file,
      field,
      entry.use,
      `the default export is not a publisher definition: ${problem}`,
    );
  }
  return definition as PublisherPlugin;
}

async function createPublisher(
  config: FanoutConfig,
  entry: PublisherConfig,
  plugin: PublisherPlugin,
  name: string,
  context: PluginContext,
): Promise<Publisher> {
  const checked = await validateWithSchema(plugin.options, entry.options);
  if (!checked.ok) {
    const [first] = checked.issues;
    const path = first?.path
      ? `${entry.path}.options${
        first.path.startsWith("[") ? "" : "."
      }${first.path}`
      : `${entry.path}.options`;
    const more = checked.issues.length > 1
      ? ` (and ${checked.issues.length - 1} more)`
      : "";
    throw new ConfigError(
      config.file,
      path,
      `${first?.message ?? "invalid"}${more}`,
    );
  }

  let publisher: unknown;
  try {
    publisher = await plugin.create(checked.value, context);
  } catch (error) {
    throw new PluginLoadError(
      config.file,
      entry.path,
      entry.use,
      `cannot start destination "${name}": ${describeError(error)}`,
      { cause: error },
    );
  }
  if (!isPublisher(publisher)) {
    throw new PluginLoadError(
      config.file,
      entry.path,
      entry.use,
      `create() of plugin "${plugin.name}" did not return a publisher (publish and close methods)`,
    );
  }
  return publisher;
}
