"""Batch decisions at table speed: the rules as one relational plan (`sql`), run embedded on
DuckDB (`duck`) or distributed on Apache Spark (`spark`)."""
