/**
 * The Standard Schema interface, version 1, as core reads it: any validator
 * that implements it (zod, valibot, arktype, or a hand-written object) can
 * check a plugin's options. The shape is the published one from
 * `@standard-schema/spec`; core declares it here so that its documentation
 * is complete, and a test checks that the two stay assignable both ways.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What it produces.
 * @since 0.1.0
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The standard properties. */
  readonly "~standard": StandardSchemaProps<Input, Output>;
}

/**
 * The properties under `~standard`.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What it produces.
 * @since 0.1.0
 */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** Always 1. */
  readonly version: 1;
  /** The library that made the schema. */
  readonly vendor: string;
  /**
   * Checks a value.
   *
   * @param value Anything.
   * @returns The output, or the issues found; possibly as a promise.
   */
  readonly validate: (
    value: unknown,
  ) => StandardResult<Output> | Promise<StandardResult<Output>>;
  /** Type-only: the input and output types. */
  readonly types?: StandardTypes<Input, Output> | undefined;
}

/**
 * The outcome of a validation: a value, or issues.
 *
 * @typeParam Output The validated type.
 * @since 0.1.0
 */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

/**
 * One problem a schema found.
 *
 * @since 0.1.0
 */
export interface StandardIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where, as keys and indexes from the root. */
  readonly path?:
    | ReadonlyArray<PropertyKey | StandardPathSegment>
    | undefined;
}

/**
 * One step of an issue's path, in object form.
 *
 * @since 0.1.0
 */
export interface StandardPathSegment {
  /** The key or index. */
  readonly key: PropertyKey;
}

/**
 * The types a schema carries, for inference only.
 *
 * @typeParam Input What the schema accepts.
 * @typeParam Output What it produces.
 * @since 0.1.0
 */
export interface StandardTypes<Input = unknown, Output = Input> {
  /** The input type. */
  readonly input: Input;
  /** The output type. */
  readonly output: Output;
}
