"""The project's persistent store: question log, thumbs, corpus gaps, trainers' verdicts.

SQLAlchemy Core over SQLite (a file in ``settings.home``) or PostgreSQL
(``ASSISTANT_DATABASE_URL=postgresql+psycopg://…``).
"""

from .dashboard import ClassPicture, DayCounts
from .engine import StoreError
from .export import (
    BOM,
    GAP_COLUMNS,
    RATING_COLUMNS,
    VERDICT_COLUMNS,
    write_gaps_csv,
    write_ratings_csv,
    write_verdicts_csv,
    write_verdicts_json,
)
from .records import (
    Gap,
    LoggedAnswer,
    PurgeReport,
    Rating,
    ReviewPage,
    ReviewQuery,
    ReviewRow,
    StoreCounts,
    Verdict,
    VerdictExport,
)
from .store import Store
from .tables import VERDICTS
from .writes import gap_text

__all__ = [
    "BOM",
    "GAP_COLUMNS",
    "RATING_COLUMNS",
    "VERDICTS",
    "VERDICT_COLUMNS",
    "ClassPicture",
    "DayCounts",
    "Gap",
    "LoggedAnswer",
    "PurgeReport",
    "Rating",
    "ReviewPage",
    "ReviewQuery",
    "ReviewRow",
    "Store",
    "StoreCounts",
    "StoreError",
    "Verdict",
    "VerdictExport",
    "gap_text",
    "write_gaps_csv",
    "write_ratings_csv",
    "write_verdicts_csv",
    "write_verdicts_json",
]
