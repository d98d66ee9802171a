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

import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError

CACHE_ALIAS = "lists"
GENERATION_KEY = "post-lists:generation"
logger = logging.getLogger(__name__)

# What a cache that cannot be reached raises: redis-py's errors, and the OS's for a socket.
UNREACHABLE = (RedisError, OSError)
# The roles whose lists differ from one user to the next (their own drafts are in them).
PERSONAL_ROLES = frozenset({"author", "editor", "admin"})


def viewer_scope(user: Any) -> str:
    """The part of a key that says whose view a list is: shared, or one user's own."""
    if user is not None and user.is_authenticated and getattr(user, "role", "") in PERSONAL_ROLES:
        return f"user-{user.pk}"
    return "public"


def _generation() -> str:
    """The current generation token; a new one when the cache has none (or lost it)."""
    cache = caches[CACHE_ALIAS]
    token = cache.get(GENERATION_KEY)
    if token is None:
        token = uuid.uuid4().hex
        # add(), not set(): two requests racing here agree on whichever token came first.
        cache.add(GENERATION_KEY, token, timeout=None)
        token = cache.get(GENERATION_KEY, token)
    return str(token)


def post_list_key(*, version: str, scope: str, path: str) -> str:
    """The cache key of one list answer (the generation is added by `cached_post_list`)."""
    digest = hashlib.sha256(f"{version}|{scope}|{path}".encode()).hexdigest()
    return f"post-list:{digest}"


def cached_post_list(*, key: str, build: Callable[[], Any]) -> Any:
    """The cached value under `key`, or `build()`'s, cached; `build()`'s whenever Redis is down."""
    cache = caches[CACHE_ALIAS]
    try:
        full_key = f"{key}:{_generation()}"
        value = cache.get(full_key)
    except UNREACHABLE as error:
        logger.warning("post list cache unreachable, answering from the database: %s", error)
        return build()
    if value is not None:
        return value
    value = build()
    try:
        cache.set(full_key, value, timeout=settings.LIST_CACHE_SECONDS)
    except UNREACHABLE as error:
        logger.warning("post list cache unreachable, not caching: %s", error)
    return value


def post_lists_changed() -> None:
    """Make every cached post list stale: a new generation token. Call it after the commit."""
    try:
        caches[CACHE_ALIAS].set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except UNREACHABLE as error:
        # Entries cached before the outage expire within LIST_CACHE_SECONDS at the latest.
        logger.error("post list cache unreachable, lists not invalidated: %s", error)
