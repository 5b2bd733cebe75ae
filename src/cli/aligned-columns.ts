/**
 * Rows of text in aligned columns, as `ls -l` prints them: each column but the last padded to its widest cell, two
 * spaces between columns. A script that splits a line on runs of spaces reads the same fields as before.
 * @module
 */

/** `rows` as lines, each column but the last as wide as its widest cell, after `indent`. */
export function alignedColumns(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, column) => {
      if (column < row.length - 1) widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  return rows.map(
    (row) =>
      indent + row.map((cell, column) => (column < row.length - 1 ? cell.padEnd(widths[column]!) : cell)).join('  '),
  );
}
