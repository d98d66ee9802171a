"""The admin site for the blog's content: what editors see, filter, search and act on."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    AuditEntry,
    BannedTerm,
    Category,
    Comment,
    Notification,
    Post,
    Subscription,
    Tag,
)
from .services import post_archive


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(BannedTerm)
class BannedTermAdmin(admin.ModelAdmin):
    list_display = ["term", "reason"]
    search_fields = ["term", "reason"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "category", "status", "published_at", "updated_at"]
    list_filter = ["status", "category", "tags"]
    search_fields = ["title", "slug", "body", "author__username"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["author", "tags"]
    date_hierarchy = "published_at"
    # One query for the page, not one per row for its author and category.
    list_select_related = ["author", "category"]
    actions = ["archive"]

    @admin.action(description="Mark selected posts as archived", permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        archived = post_archive(posts=queryset)
        self.message_user(request, f"{archived} post(s) archived.", messages.SUCCESS)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "post", "author", "created_at"]
    list_filter = ["created_at"]
    search_fields = ["body", "author__username", "post__title"]
    autocomplete_fields = ["post", "author"]
    list_select_related = ["post", "author"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail, read-only: nobody adds, changes or deletes an entry by hand."""

    list_display = ["created_at", "action", "post_ref", "post_title", "actor", "to_status"]
    list_filter = ["action", "created_at"]
    search_fields = ["post_title", "actor__username", "note"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["reader", "author", "created_at"]
    search_fields = ["reader__username", "author__username"]
    list_select_related = ["reader", "author"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Where an operator finds the mails that could not be sent: filter by status "failed"."""

    list_display = ["post", "recipient", "status", "attempts", "sent_at", "error"]
    list_filter = ["status", "created_at"]
    search_fields = ["recipient__username", "recipient__email", "post__title", "error"]
    list_select_related = ["post", "recipient"]
