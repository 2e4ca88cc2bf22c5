"""Parquet written by tw-export, read back by DuckDB and polars.

Usage: python3 bench/parquet_readback.py path/to/tw-export

Exports skill profiles and skill clusters from the built-in sandbox as
Parquet and as RFC 4180 CSV, then checks with DuckDB and polars that the
Parquet file has the CSV table's columns and rows, with typed numeric and
boolean columns. Exits non-zero on any difference.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import polars as pl


def export(exe, dataset, out, *flags):
    subprocess.run(
        [exe, dataset, "--sandbox", "--sandbox-employees", "3000", "-q", *flags, "-o", str(out)],
        check=True,
    )


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in ["skill-profiles", "skill-clusters", "org-units"]:
            parquet = Path(tmp) / f"{dataset}.parquet"
            csv = Path(tmp) / f"{dataset}.csv"
            export(exe, dataset, parquet)
            export(exe, dataset, csv, "--csv-dialect", "rfc4180")

            # polars: same columns, same number of rows, typed columns.
            frame = pl.read_parquet(parquet)
            text = pl.read_csv(csv, infer_schema_length=0)  # every column as text
            assert frame.columns == text.columns, (dataset, frame.columns, text.columns)
            assert frame.height == text.height, (dataset, frame.height, text.height)
            as_text = frame.select(
                [
                    pl.col(c).cast(pl.Utf8).str.to_lowercase()
                    if frame.schema[c] == pl.Boolean
                    else pl.col(c).cast(pl.Utf8)
                    for c in frame.columns
                ]
            ).fill_null("")
            for column in frame.columns:
                dtype = frame.schema[column]
                left = as_text[column].to_list()
                right = text[column].fill_null("").to_list()
                if dtype == pl.Float64:
                    left = [float(v) if v else None for v in left]
                    right = [float(v) if v else None for v in right]
                assert left == right, (dataset, column)

            # DuckDB: the same rows, and real numbers to compute with.
            con = duckdb.connect()
            rows = con.execute(f"select count(*) from '{parquet}'").fetchall()[0][0]
            assert rows == text.height, (dataset, rows)
            described = con.execute(f"describe select * from '{parquet}'").fetchall()
            types = {r[0]: r[1] for r in described}
            print(f"{dataset}: {rows} rows, {len(frame.columns)} columns; DuckDB types "
                  + ", ".join(f"{k}={v}" for k, v in types.items() if v != "VARCHAR"))
    print("parquet read-back: ok")


if __name__ == "__main__":
    main()
