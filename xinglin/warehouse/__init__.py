"""The one doorway to analytic SQL: DuckDB over Parquet files exported from the operational
database (DESIGN.md). Every query goes through `Warehouse.query`: parameterised, with a time
limit and a row cap, and logged with its timing (logger `xinglin.warehouse`)."""

from xinglin.warehouse.engine import QueryResult, Warehouse, WarehouseError

__all__ = ["QueryResult", "Warehouse", "WarehouseError"]
