import { Fragment, type ComponentChildren, type JSX } from 'preact';

/** A column of a {@link Table}. */
export interface Column<T> {
  /** Header text (also the column's key: unique within a table). */
  label: string;
  /** The cell of a row; `index`: the row's place in `rows`, from 0. */
  cell: (row: T, index: number) => ComponentChildren;
  /** Class of the header and cells (width, alignment). */
  class?: string;
  /** `data-testid` of each of the column's cells (`td`); none without it. */
  testId?: string;
}

/** What a {@link Table} shows. */
export interface TableProps<T> {
  columns: Array<Column<T>>;
  rows: readonly T[];
  rowKey: (row: T) => string;
  rowProps?: (row: T) => JSX.HTMLAttributes<HTMLTableRowElement> & Record<string, unknown>;
  empty: string;
  emptyTestId?: string;
  caption?: string;
  /** `data-testid` of the `table` element; none without it. */
  testId?: string;
  /** What to show in a full-width row under a row (an expanded row's details); nothing when it answers null. */
  detail?: (row: T) => ComponentChildren;
}

/**
 * A dense table with a sticky header; `rowProps` gives each row its
 * attributes (data-testid, data-*), `detail` an optional full-width row
 * under it. Without rows it shows `empty`.
 */
export function Table<T>({ columns, rows, rowKey, rowProps, empty, emptyTestId, caption, testId, detail }: TableProps<T>) {
  return (
    <div class="table-wrap">
      <table class="table" data-testid={testId}>
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
          {rows.map((row, index) => {
            const more = detail?.(row);
            return (
              <Fragment key={rowKey(row)}>
                <tr {...(rowProps?.(row) ?? {})}>
                  {columns.map((c) => (
                    <td key={c.label} class={c.class} data-testid={c.testId}>
                      {c.cell(row, index)}
                    </td>
                  ))}
                </tr>
                {more ? (
                  <tr class="detail-row">
                    <td colSpan={columns.length}>{more}</td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
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
