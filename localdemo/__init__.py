"""`make demo`: the fraud pipeline on this machine (app on SQLite, local Flink, flags on the page)."""
