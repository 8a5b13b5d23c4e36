/**
 * Plain-text tables for the CLI: left-aligned columns separated by two
 * spaces, like `kubectl get`. Cells are sanitised (no control characters, no
 * newlines), so a hostile label value cannot move the cursor.
 *
 * @module
 */

/** A column: header and how to read the cell from a row. */
export interface Column<Row> {
  readonly header: string;
  readonly cell: (row: Row) => string;
  /** Right-align (numbers). */
  readonly right?: boolean;
  /** Truncate cells longer than this with `…`. */
  readonly max?: number;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Removes control characters and newlines from one cell. */
export function sanitize(text: string): string {
  return text.replace(CONTROL, " ");
}

/** Renders `rows` under `columns` as lines (no trailing newline on each). */
export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string[] {
  const cells = rows.map((r) =>
    columns.map((c) => {
      const s = sanitize(c.cell(r));
      return c.max !== undefined && s.length > c.max ? `${s.slice(0, c.max - 1)}…` : s;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => (row[i] ?? "").length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => {
        const w = widths[i] ?? 0;
        if (i === values.length - 1 && !columns[i]?.right) return v;
        return columns[i]?.right ? v.padStart(w) : v.padEnd(w);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)];
}
