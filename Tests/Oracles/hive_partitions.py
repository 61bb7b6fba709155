"""Reads a `spread-monitor export` directory back the way an analyst would: DuckDB's
read_csv over DIR/**/*.csv with hive_partitioning, the partition columns recovered from
the folder names. Prints one JSON object per row, every value as text ("" for NULL),
ordered by book and observed_at. Usage: python hive_partitions.py DIR"""

import json
import sys

import duckdb

directory = sys.argv[1]
rows = duckdb.sql(
    f"""
    SELECT * FROM read_csv('{directory}/**/*.csv', hive_partitioning = true, all_varchar = true, header = true)
    ORDER BY book, observed_at
    """
)
columns = rows.columns
for row in rows.fetchall():
    print(json.dumps({name: "" if value is None else str(value) for name, value in zip(columns, row)}))
