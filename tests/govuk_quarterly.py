"""The quarterly statistical data set in the local GOV.UK (tests/govuk_server.py).

GOV.UK lists the "Irregular migration to the UK" detailed dataset on a statistical data set
page; its Content API answer lists the workbooks as attachments, served from the older
`/government/uploads/...` asset layout. `GovukServer` inherits these routes from
`QuarterlyListing`; see that module's docstring for the fields (`quarterly`, ...).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import quote

__all__ = [
    "DATASET_PATH",
    "DATASET_API_PATH",
    "UPLOADS_PATH",
    "XLSX_TYPE",
    "QuarterlyListing",
    "media_id",
]

DATASET_PATH = (
    "/government/statistical-data-sets/irregular-migration-detailed-dataset-and-summary-tables"
)
DATASET_API_PATH = "/api/content" + DATASET_PATH
UPLOADS_PATH = "/government/uploads/system/uploads/attachment_data/file/"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The real publication dates of the shared quarterly releases (../shared/data/README.md).
QUARTERLY_PUBLISHED = {
    "december-2022": "2023-02-23",
    "march-2023": "2023-05-25",
    "june-2023": "2023-08-24",
    "september-2023": "2023-11-23",
    "december-2023": "2024-02-29",
}


def media_id(path: Path) -> str:
    """The id in a served file's URL: the first 24 hex digits of its sha256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:24]


def _quarterly_published(path: Path | None) -> str | None:
    """The real publication date of a shared quarterly release, from its file name."""
    if path is None:
        return None
    return next((d for k, d in QUARTERLY_PUBLISHED.items() if k in path.name), None)


class QuarterlyListing:
    """The quarterly routes of the local GOV.UK (mixed into `GovukServer`, which holds the
    fields `shared`, `quarterly`, `quarterly_updated_at`, `_quarterly_listed`)."""

    shared: Path
    quarterly: Path | None
    quarterly_updated_at: str | None
    _quarterly_listed: list[Path]
    url: str

    @staticmethod
    def _pick(key: str | Path, paths: list[Path]) -> Path:  # GovukServer's
        raise NotImplementedError

    @property
    def quarterlies(self) -> list[Path]:
        """Every shared quarterly workbook, oldest release first."""
        folder = self.shared / "govuk" / "irregular-migration-detailed"
        return sorted(folder.glob("*.xlsx"), key=lambda p: _quarterly_published(p) or "")

    def use_quarterly(self, key: str | Path | None) -> Path | None:
        """List this quarterly workbook as the newest (a Path or a substring; None: none)."""
        self.quarterly = None if key is None else self._pick(key, self.quarterlies)
        return self.quarterly

    def also_list_quarterly(self, *keys: str | Path) -> list[Path]:
        """List these quarterly workbooks as well (GOV.UK keeps earlier releases' files)."""
        self._quarterly_listed = [self._pick(k, self.quarterlies) for k in keys]
        return self._quarterly_listed

    def quarterly_url(self, path: Path | None = None) -> str:
        """Where a quarterly workbook is served (default the one listed as newest)."""
        path = path or self.quarterly
        assert path is not None
        return f"{self.url}{UPLOADS_PATH}{media_id(path)}/{quote(path.name)}"

    def quarterly_json(self) -> bytes:
        """The statistical data set's Content API answer, as GOV.UK shapes it."""
        listed = [p for p in self._quarterly_listed if p != self.quarterly]
        listed += [self.quarterly] if self.quarterly else []
        files = [
            {
                "attachment_type": "file",
                "id": media_id(path),
                "title": "Irregular migration to the UK detailed dataset, "
                + path.stem.split("dataset-")[-1].replace("-", " "),
                "filename": path.name,
                "url": self.quarterly_url(path),
                "content_type": XLSX_TYPE,
                "file_size": path.stat().st_size,
            }
            for path in listed
        ]
        summary = {
            "attachment_type": "html",
            "title": "Irregular migration to the UK summary tables",
            "url": self.url + DATASET_PATH + "/summary-tables",
            "content_type": "text/html",
        }
        published = self.quarterly_updated_at or (
            (_quarterly_published(self.quarterly) or "2024-02-29") + "T09:30:00+00:00"
            if self.quarterly
            else "2024-02-29T09:30:00+00:00"
        )
        doc = {
            "base_path": DATASET_PATH,
            "document_type": "statistical_data_set",
            "schema_name": "statistical_data_set",
            "title": "Irregular migration detailed dataset and summary tables",
            "public_updated_at": published,
            "first_published_at": "2023-02-23T09:30:00+00:00",
            "details": {"attachments": [summary, *files], "body": "<p>Irregular migration</p>"},
        }
        return json.dumps(doc).encode("utf-8")

    def quarterly_content(self, route: str, path: str) -> tuple[int, bytes, str, str | None]:
        """(status, body, content type, Last-Modified) on the quarterly routes."""
        if route == "quarterly_api":
            return 200, self.quarterly_json(), "application/json; charset=utf-8", None
        if route == "quarterly":
            wanted = path[len(UPLOADS_PATH) :].split("/")[0]
            for candidate in [*self._quarterly_listed, self.quarterly]:
                if candidate is not None and media_id(candidate) == wanted:
                    return 200, candidate.read_bytes(), XLSX_TYPE, None
        return 404, b"<html><body>Page not found</body></html>", "text/html", None
