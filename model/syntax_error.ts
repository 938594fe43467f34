/**
 * The error thrown for a malformed model expression.
 *
 * @module
 */

/**
 * A syntax error in a model expression, with the 0-based `position` of the
 * offending character and a message that shows the expression with a caret
 * under that position.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * const err = new ModelSyntaxError("Unknown function 'foo'", "a * foo(x)", 4);
 * assert.strictEqual(err.position, 4);
 * assert.strictEqual(
 *   err.message,
 *   "Unknown function 'foo' at position 4\n  a * foo(x)\n      ^",
 * );
 * assert.ok(err instanceof SyntaxError);
 * ```
 */
export class ModelSyntaxError extends SyntaxError {
  /** 0-based index of the offending character in `expression`. */
  readonly position: number;
  /** The expression that failed to parse. */
  readonly expression: string;

  /**
   * Builds the error; the message shows the expression with a caret.
   *
   * @param what What went wrong, e.g. `"Unknown function 'foo'"`.
   * @param expression The whole expression.
   * @param position 0-based index of the offending character.
   */
  constructor(what: string, expression: string, position: number) {
    // Line breaks and tabs would misalign the caret: show them as spaces.
    const shown = expression.replace(/[\r\n\t\v\f]/g, " ");
    super(
      `${what} at position ${position}\n  ${shown}\n  ${" ".repeat(position)}^`,
    );
    this.name = "ModelSyntaxError";
    this.position = position;
    this.expression = expression;
  }
}
