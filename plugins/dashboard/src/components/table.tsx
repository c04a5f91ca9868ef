import type { ComponentChildren, JSX } from 'preact';

/** A column of a {@link Table}. */
export interface Column<T> {
  /** Header text. */
  label: string;
  /** The cell of a row. */
  cell: (row: T) => ComponentChildren;
  /** Class of the header and cells (width, alignment). */
  class?: string;
}

/**
 * A dense table with a sticky header; `rowProps` gives each row its
 * attributes (data-testid, data-*). Without rows it shows `empty`.
 */
export function Table<T>({
  columns,
  rows,
  rowKey,
  rowProps,
  empty,
  emptyTestId,
  caption,
}: {
  columns: Array<Column<T>>;
  rows: readonly T[];
  rowKey: (row: T) => string;
  rowProps?: (row: T) => JSX.HTMLAttributes<HTMLTableRowElement> & Record<string, unknown>;
  empty: string;
  emptyTestId?: string;
  caption?: string;
}) {
  return (
    <div class="table-wrap">
      <table class="table">
        {caption ? <caption class="sr-only">{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.label} class={c.class} scope="col">
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} {...(rowProps?.(row) ?? {})}>
              {columns.map((c) => (
                <td key={c.label} class={c.class}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length ? null : (
        <p class="empty" data-testid={emptyTestId}>
          {empty}
        </p>
      )}
    </div>
  );
}
