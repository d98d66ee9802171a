"""The cached post lists: never one caller's view for another, never older than a write.

A list is cached under a key built from everything its answer depends on: the API version, the
full path with its query string (page, filters, ordering) and *who may see what*: anonymous
callers and readers see the same published posts and share entries; an author, an editor or an
admin may see drafts, so their entries are their own (the user's id is in the key).

Every key also holds the lists' *generation*, a token stored in the same cache. A write to a
post (create, edit, workflow move, archive, delete) replaces the token once its transaction has
committed (`post_lists_changed`, called by the services), so every entry written before is
never read again and simply expires. Invalidating after the commit matters: invalidated
earlier, a request served between the two could cache the old rows under the new token.

Redis is an optimisation, not a dependency: when the cache cannot be reached, a read is a miss
(the list is built from the database), a write is skipped, and a warning is logged. Answers
are slower, never wrong and never errors. The cache is Django's "lists" cache
(`CACHES["lists"]`, `LIST_CACHE_URL`), apart from the throttle counters in "default".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CACHE_ALIAS = "lists"
GENERATION_KEY = "post-lists:generation"


def viewer_scope(user: Any) -> str:
    """The part of a key that says whose view a list is: shared, or one user's own."""
    # TODO(lab09): "public" for callers who see only published posts, one scope per user for
    # those who may see drafts (labs/lab09/README.md, step 5).
    return "public"


def _generation() -> str:
    """The current generation token; a new one when the cache has none (or lost it)."""
    # TODO(lab09): the generation token (labs/lab09/README.md, step 5).
    return ""


def post_list_key(*, version: str, scope: str, path: str) -> str:
    """The cache key of one list answer (the generation is added by `cached_post_list`)."""
    # TODO(lab09): a key from everything the answer depends on (labs/lab09/README.md, step 5).
    return "post-list"


def cached_post_list(*, key: str, build: Callable[[], Any]) -> Any:
    """The cached value under `key`, or `build()`'s, cached; `build()`'s whenever Redis is down."""
    # TODO(lab09): answer from the cache, else build and cache; a cache that cannot be reached
    # is a miss, never an error (labs/lab09/README.md, step 5).
    return build()


def post_lists_changed() -> None:
    """Make every cached post list stale: a new generation token. Call it after the commit."""
    # TODO(lab09): invalidate every cached list (labs/lab09/README.md, step 5).
