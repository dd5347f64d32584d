/**
 * The logging methods a plugin may use. A LogTape `Logger` fits it; the
 * loader hands each plugin one whose category is named after the plugin,
 * and the application decides where the records go.
 *
 * Pass structured fields instead of building strings, and never pass a
 * secret.
 *
 * @since 0.1.0
 */
export interface PluginLogger {
  /**
   * Logs at debug level.
   *
   * @param message A message template with `{field}` placeholders.
   * @param properties The fields.
   */
  debug(message: string, properties?: Record<string, unknown>): void;
  /**
   * Logs at info level.
   *
   * @param message A message template with `{field}` placeholders.
   * @param properties The fields.
   */
  info(message: string, properties?: Record<string, unknown>): void;
  /**
   * Logs at warning level.
   *
   * @param message A message template with `{field}` placeholders.
   * @param properties The fields.
   */
  warn(message: string, properties?: Record<string, unknown>): void;
  /**
   * Logs at error level.
   *
   * @param message A message template with `{field}` placeholders.
   * @param properties The fields.
   */
  error(message: string, properties?: Record<string, unknown>): void;
}
