"""Call-next under contention: N counters claiming M visits at once, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.bench_claims [--threads 16] [--visits 300]

PostgreSQL runs when TEST_DATABASE_URL is set (a throwaway schema is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid

from sqlalchemy import create_engine, text

from bench.claim_race import run_race


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--visits", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(
            run_race(f"sqlite:///{tmp}/bench.db", threads=args.threads, visits=args.visits).line(
                "SQLite"
            )
        )
    pg = os.environ.get("TEST_DATABASE_URL")
    if not pg:
        print("PostgreSQL: skipped (set TEST_DATABASE_URL)")
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in pg else "?"
        url = f"{pg}{sep}options=-csearch_path%3D{schema}"
        print(run_race(url, threads=args.threads, visits=args.visits).line("PostgreSQL"))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
