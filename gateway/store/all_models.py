"""Every model module, imported so that one ``metadata`` knows every table (for Alembic).

An area that adds tables adds its module here.
"""

from gateway.store import drift_models, events_models, ingestion_models, joins_models, models, queries_models
from gateway.store.models import metadata

MODEL_MODULES = (models, queries_models, ingestion_models, joins_models, drift_models, events_models,)

__all__ = ["MODEL_MODULES", "metadata"]
