import { useState } from 'preact/hooks';
import { Pager } from './pager.js';
import { Table, type TableProps } from './table.js';

/** One page of a list paged in the browser ({@link useRowsPage}). */
export interface RowsPage<T> {
  /** The rows of the page shown. */
  shown: T[];
  /** The page shown, from 0 (the last one when the list has shrunk below the page chosen). */
  at: number;
  /** How many pages there are (at least 1). */
  pages: number;
  /** Show page `at` (from 0). */
  go: (at: number) => void;
}

/**
 * The page of `rows` shown, `size` rows a page: the component keeps which
 * page is chosen (the first at start).
 */
export function useRowsPage<T>(rows: readonly T[], size: number): RowsPage<T> {
  const [chosen, setChosen] = useState(0);
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const at = Math.min(chosen, pages - 1);
  return { shown: rows.slice(at * size, (at + 1) * size), at, pages, go: setChosen };
}

/**
 * A {@link Table} of the page `page` shows, followed by a {@link Pager}
 * ("Page 2 of 3") when there is more than one page.
 */
export function PagedTable<T>({ page, ...table }: Omit<TableProps<T>, 'rows'> & { page: RowsPage<T> }) {
  return (
    <>
      <Table {...table} rows={page.shown} />
      {page.pages > 1 ? (
        <Pager
          hasPrev={page.at > 0}
          hasNext={page.at < page.pages - 1}
          onPrev={() => page.go(page.at - 1)}
          onNext={() => page.go(page.at + 1)}
          label={`Page ${page.at + 1} of ${page.pages}`}
        />
      ) : null}
    </>
  );
}
