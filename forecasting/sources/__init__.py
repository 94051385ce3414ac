"""Getting publications: from GOV.UK over HTTP, or from files, checked before anything is stored.

- `http`: the one retry layer, capped bodies, a deadline per download, GOV.UK's hosts only.
- `discovery`: where the Content API and the publication page list the newest publications.
- `archive`: bounded reads of zip containers; the single "is this an ODS" check.
- `cells`: header and cell parsing shared by the ODS and the page.
- `release`: the weekly ODS release -> `Release`.
- `page`, `page_html`: the daily "last 7 days" page -> `Release`, repaired where unambiguous.
- `checks`: figures that cannot be true.
- `fetch`: downloads, conditional requests, `fetch_latest`.

Import from the submodules; this package imports nothing, so the CLI starts quickly.
"""
