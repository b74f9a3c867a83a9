"""Documents and services for modules: `CoreDocument` (audit fields, soft
delete), `OwnedDocument` (owner isolation on every query unless admin),
the repository port and its Beanie adapter, `BaseService`, schema bases,
string-named links, the pagination shape (keyset cursors), the lists a document declares and
the indexes made from them, quick search on the words of the fields it declares searchable,
and what generated routes share (conditional requests,
`Idempotency-Key`, list options)."""

from webos_common.documents.base import CoreDocument, OwnedDocument, collection_name, module_of, utcnow
from webos_common.documents.beanie_repository import BeanieRepository, etag, object_id
from webos_common.documents.http import Conditional, IdempotencyKey, ListView
from webos_common.documents.idempotency import IdempotencyStore
from webos_common.documents.links import DocumentRegistry, Link, LinkValue, documents
from webos_common.documents.ports import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    EventPublisher,
    NullPublisher,
    Page,
    RecordingPublisher,
    Repository,
    cap_limit,
)
from webos_common.documents.publishers import BusPublisher, OutboxPublisher
from webos_common.documents.queries import ListQuery, declared_queries, ensure_query_indexes, scan_stages
from webos_common.documents.schemas import (
    BULK_MAX_IDS,
    BulkChanges,
    CreateModel,
    IdStr,
    OwnedReadModel,
    ReadModel,
    UpdateModel,
)
from webos_common.documents.search import SEARCH_FIELD, search_filter, searchable
from webos_common.documents.service import BaseService

__all__ = [
    "BULK_MAX_IDS", "DEFAULT_LIMIT", "MAX_LIMIT", "SEARCH_FIELD", "BaseService", "BeanieRepository", "BulkChanges",
    "BusPublisher",
    "Conditional",
    "CoreDocument", "CreateModel", "DocumentRegistry", "EventPublisher", "IdStr", "IdempotencyKey", "IdempotencyStore",
    "Link",
    "LinkValue", "ListQuery", "ListView", "NullPublisher",
    "OutboxPublisher", "OwnedDocument", "OwnedReadModel", "Page", "ReadModel", "RecordingPublisher", "Repository",
    "UpdateModel", "cap_limit", "collection_name", "declared_queries", "documents", "ensure_query_indexes", "etag",
    "module_of", "object_id", "scan_stages", "search_filter", "searchable", "utcnow",
]
