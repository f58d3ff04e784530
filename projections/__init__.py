"""The read side: projectors, view stores, the projection runner and queries."""

from projections.queries import HistoryQuery, Queries
from projections.runner import ProjectionRunner
from projections.views import Views

__all__ = ["HistoryQuery", "ProjectionRunner", "Queries", "Views"]
