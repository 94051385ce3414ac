"""What each command does, shared by the `crossings` command and the Prefect flows.

Both call these functions, so a command and a scheduled run cannot drift apart: the same checks
(models, horizon, as-of dates), the same cache (a forecast already held from the same
publications is not refitted) and the same writes. No Prefect here: a flow passes its own task
where it wants a step to show in the Prefect UI (`fit_with`).

Fits are pure (`fit`: a daily frame in, JSON payloads out) and never touch the store; reads and
writes are separate short store calls, so a fit can run anywhere while the writer (the command or
flow that owns the run) holds the DuckDB file only for the moment it writes.

One module per job: `checks` (what every command refuses before any work), `as_of_reader` (the
figures as known on many dates, read once per span), `forecast`, `backtest` (and the selection
protocol), `ingest`, `status` (what a run ends with).
"""
