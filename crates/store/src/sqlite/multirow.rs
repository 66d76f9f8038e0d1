//! Multi-row statements: `INSERT … VALUES (…), (…), …` and `WITH v(…) AS (VALUES …) UPDATE … FROM
//! v`, so a batch writes each table with one statement instead of one per row (SQLite runs each
//! statement separately; the alarm batch also sends all its statements to sqlx's SQLite worker
//! thread in one round trip, see `incidents::Writes`).
//!
//! A batch is cut into chunks whose row counts are powers of two (largest first), each under
//! SQLite's bound-parameter limit. So a batch of n rows takes at most ⌈log₂ n⌉ + 1 statements per
//! table (one for n = 1, the common case under light load), and only a handful of distinct SQL
//! texts exist per table, which sqlx's per-connection statement cache keeps prepared.

use std::ops::Range;

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` (since 3.32).
const MAX_PARAMETERS: usize = 32_766;
/// Most rows in one statement, whatever the width.
const MAX_ROWS: usize = 512;

/// Rows per statement for a table of `columns` bound columns: the largest power of two that fits.
fn max_rows(columns: usize) -> usize {
    let fit = (MAX_PARAMETERS / columns.max(1)).clamp(1, MAX_ROWS);
    1 << fit.ilog2()
}

/// The chunks `len` rows of `columns` parameters each are written in, in order.
pub(super) fn chunks(len: usize, columns: usize) -> impl Iterator<Item = Range<usize>> {
    let max = max_rows(columns);
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = len - start;
        if left == 0 {
            return None;
        }
        let rows = 1 << left.min(max).ilog2();
        let range = start..start + rows;
        start += rows;
        Some(range)
    })
}

/// `head` followed by `rows` groups `(?, …, ?)` of `columns` placeholders, then `tail`.
pub(super) fn values_sql(head: &str, columns: usize, rows: usize, tail: &str) -> String {
    let mut group = String::with_capacity(columns * 3 + 2);
    group.push('(');
    for c in 0..columns {
        group.push_str(if c == 0 { "?" } else { ", ?" });
    }
    group.push(')');
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * (group.len() + 2));
    sql.push_str(head);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&group);
    }
    sql.push_str(tail);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_covering_everything_in_order() {
        for columns in [1, 6, 8, 9, 21, 28, 40_000] {
            for len in 0..1_500 {
                let parts: Vec<_> = chunks(len, columns).collect();
                let mut next = 0;
                for part in &parts {
                    assert_eq!(part.start, next);
                    assert!(part.len().is_power_of_two());
                    assert!(part.len() * columns.min(MAX_PARAMETERS) <= MAX_PARAMETERS);
                    assert!(part.len() <= MAX_ROWS);
                    next = part.end;
                }
                assert_eq!(next, len);
            }
        }
        assert_eq!(chunks(1, 28).count(), 1);
        assert_eq!(chunks(512, 28).count(), 1);
        assert_eq!(chunks(511, 28).count(), 9);
    }

    #[test]
    fn values_sql_shape() {
        assert_eq!(
            values_sql("INSERT INTO t (a, b) VALUES ", 2, 3, " RETURNING id"),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) RETURNING id"
        );
    }
}
