/**
 * Helpers for Fanout's own tests and for plugin authors' tests that need a
 * real service on this machine.
 *
 * @example Skip a test when PostgreSQL is not running
 * ```ts ignore
 * import { serviceTest } from "@fanout/core/testing";
 *
 * const postgres = await serviceTest("PostgreSQL", 5432);
 * Deno.test({ name: "stores rows", ignore: postgres.ignore, fn: () => {} });
 * ```
 *
 * @module
 */
import { connect } from "node:net";

/**
 * Whether a service answered, and whether a test that needs it should be
 * ignored.
 *
 * @since 0.1.0
 */
export interface ServiceCheck {
  /** A TCP connection to the service succeeded. */
  readonly available: boolean;
  /**
   * The service is down and `FANOUT_REQUIRE_SERVICES` is not set. When the
   * variable is set this is always `false`, so that the test runs and fails.
   */
  readonly ignore: boolean;
}

/**
 * Tries a TCP connection to a service on loopback, and prints a visible
 * reason when tests that need it will be skipped.
 *
 * @param name The service's name, for the message.
 * @param port Its port on 127.0.0.1.
 * @param timeoutMs How long to wait for the connection.
 * @returns Whether it answered and whether to ignore the tests.
 * @since 0.1.0
 */
export async function serviceTest(
  name: string,
  port: number,
  timeoutMs = 1000,
): Promise<ServiceCheck> {
  const available = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(ok: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    }
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
  const required = Deno.env.get("FANOUT_REQUIRE_SERVICES") === "1";
  if (!available && !required) {
    // deno-lint-ignore no-console -- the skip reason must reach the person running the tests
    console.warn(
      `Skipping tests that need ${name}: nothing answers on 127.0.0.1:${port} (set FANOUT_REQUIRE_SERVICES=1 to fail instead)`,
    );
  }
  return { available, ignore: !available && !required };
}
