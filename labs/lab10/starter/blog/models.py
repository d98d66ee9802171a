"""The blog's content: categories, tags, posts, comments, and the banned terms of its policy.

Rules about content that must hold for every row, whoever writes it (a view, the admin, a bulk
update, a script, another service sharing the database), are database constraints declared in
each model's Meta, not checks in Python. Business logic (publishing, moderation) lives in
services.py, never in save().
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThan


class CategoryManager(models.Manager["Category"]):
    """Finds a category by its natural key, the slug, so fixtures can name it without an id."""

    def get_by_natural_key(self, slug: str) -> Category:
        return self.get(slug=slug)


class Category(models.Model):
    """A section of the blog; every post belongs to exactly one. Seeded by `seed_governance`."""

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)

    objects = CategoryManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


class Tag(models.Model):
    """A free-form label; a post has any number of them."""

    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BannedTermManager(models.Manager["BannedTerm"]):
    """Finds a banned term by its natural key, the term itself."""

    def get_by_natural_key(self, term: str) -> BannedTerm:
        return self.get(term=term)


class BannedTerm(models.Model):
    """A word or phrase the content policy forbids in posts and comments (services refuse it).

    The list is governance data, seeded from a fixture by `python manage.py seed_governance`.
    """

    term = models.CharField(max_length=100, unique=True)
    reason = models.CharField(max_length=200, blank=True)

    objects = BannedTermManager()

    class Meta:
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term

    def natural_key(self) -> tuple[str]:
        return (self.term,)


class PostStatus(models.TextChoices):
    """Where a post is in the editorial workflow (draft → in review → published → archived)."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Post(models.Model):
    """An article written by one author, filed in one category, labelled with tags."""

    title = models.CharField(max_length=200)
    # Unique per author, not site-wide (see Meta): two authors may both write "hello-world".
    slug = models.SlugField(max_length=200)
    body = models.TextField()
    # PROTECT: an author or a category with posts cannot be deleted by accident; deactivate the
    # account (is_active=False) or move the posts first.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts"
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="posts")
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    status = models.CharField(max_length=16, choices=PostStatus.choices, default=PostStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "slug"], name="blog_post_unique_slug_per_author"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PostStatus.values),
                name="blog_post_status_valid",
            ),
            # "If published then dated", written as "not published, or dated".
            models.CheckConstraint(
                condition=~models.Q(status=PostStatus.PUBLISHED)
                | models.Q(published_at__isnull=False),
                name="blog_post_published_has_date",
            ),
        ]
        indexes = [
            # The public list: published posts, newest first.
            models.Index(fields=["status", "-published_at"], name="blog_post_status_pub_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    """A reader's reply to a post; it goes when its post or its author goes."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # Neither empty nor only spaces: TRIM strips the spaces, LENGTH counts what is left.
            models.CheckConstraint(
                condition=GreaterThan(Length(Trim("body")), 0),
                name="blog_comment_body_not_blank",
            ),
        ]
        indexes = [
            # A post's comments in order.
            models.Index(fields=["post", "created_at"], name="blog_comment_post_created_idx"),
        ]

    def __str__(self) -> str:
        # The start of the text, not the author or the post: those would cost a query each.
        return self.body if len(self.body) <= 40 else self.body[:39] + "…"


class AuditAction(models.TextChoices):
    """What was done to a post: its creation, a content edit, each workflow move, its deletion."""

    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    SUBMITTED = "submitted", "Submitted for review"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Sent back to draft"
    UNPUBLISHED = "unpublished", "Unpublished"
    ARCHIVED = "archived", "Archived"
    DELETED = "deleted", "Deleted"


class AuditEntry(models.Model):
    """One thing someone did to a post, recorded by the service that did it. Append-only.

    The services write an entry in the same transaction as the change it describes, so an entry
    exists if and only if the change happened. Nothing in the application changes or deletes an
    entry afterwards; the admin shows them read-only.
    """

    # Who did it; None for a change made by the system (a script). SET_NULL: deleting an account
    # must not delete what it did (deactivating it, is_active=False, keeps the name too).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    # SET_NULL: the history outlives the post; post_ref and post_title say which post it was.
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    post_ref = models.PositiveBigIntegerField()
    post_title = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    # "" where there is no status: before a post is created, after it is deleted.
    from_status = models.CharField(max_length=16, choices=PostStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=PostStatus.choices, blank=True)
    # A content edit: {"title": ["old", "new"], ...}; empty for the other actions.
    changes = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "audit entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values),
                name="blog_auditentry_action_valid",
            ),
        ]
        indexes = [
            # A post's history, oldest first.
            models.Index(fields=["post", "created_at"], name="blog_audit_post_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} #{self.post_ref}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: an entry that exists is never rewritten."""
        if not self._state.adding:
            raise ValueError("Audit entries are append-only: they are never changed.")
        super().save(*args, **kwargs)


class Subscription(models.Model):
    """A reader follows an author: each post the author publishes is mailed to the reader.

    The database holds the rules: one subscription per pair, and never to oneself.
    """

    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscribers"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "author"], name="blog_subscription_reader_author_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(reader=models.F("author")),
                name="blog_subscription_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reader_id} follows {self.author_id}"


class NotificationStatus(models.TextChoices):
    """Where one mail about one post to one subscriber stands."""

    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """The mail telling one subscriber about one published post: at most one, ever.

    The unique (post, recipient) pair is what makes the notifying task idempotent: a second run
    of the task (a retry, a redelivery after a worker died) finds the row already `sent` and
    sends nothing. A mail that could not be sent after every retry stays here as `failed`, with
    the error, for an operator to see in the admin.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "recipient"], name="blog_notification_post_recipient_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=NotificationStatus.values),
                name="blog_notification_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"post {self.post_id} to {self.recipient_id}: {self.status}"
