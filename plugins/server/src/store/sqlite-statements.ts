import type Database from 'better-sqlite3';

/**
 * `db`'s statements, each prepared once on first use and kept: the SQLite
 * store and its parts (flows, requirements, webhooks, watch folders) share
 * this shape of access.
 */
export function preparedStatements(db: Database.Database): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
}
