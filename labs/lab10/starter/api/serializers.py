"""The API's contracts: what clients may send (input) and what they get back (output).

Input and output are separate serializers on purpose: a client sends a category's id and tag
ids, and gets back the category and the tags themselves, with the author and timestamps.
Serializers check the shape of the data (types, lengths, formats, that referenced rows exist)
and never save anything: the services in `blog/services.py` own the writes and the business
rules (banned terms, a slug unique per author).
"""

from __future__ import annotations

from typing import Any

from django.utils.text import slugify
from rest_framework import serializers

from blog.models import Category, PostStatus, Tag


class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    description = serializers.CharField()


class TagOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class AuthorOutputSerializer(serializers.Serializer):
    """The public face of a user: never the e-mail address, the role or anything else."""

    id = serializers.IntegerField()
    username = serializers.CharField()


class PostInputSerializer(serializers.Serializer):
    """A post as a client writes it. For PATCH, use it with `partial=True`."""

    title = serializers.CharField(max_length=200)
    # Optional when creating: validate() makes one from the title.
    slug = serializers.SlugField(max_length=200, required=False)
    body = serializers.CharField()
    # The related rows must exist: an unknown id is a 400 naming the field, never a 500.
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all())
    tags = serializers.PrimaryKeyRelatedField(
        queryset=Tag.objects.all(), many=True, required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A new post sent without a slug gets one made from its title."""
        if not self.partial and "slug" not in attrs:
            attrs["slug"] = slugify(attrs["title"])
            if not attrs["slug"]:
                raise serializers.ValidationError(
                    {"slug": ["Give a slug: the title has no letters or digits to make one of."]}
                )
        return attrs


class PostOutputSerializer(serializers.Serializer):
    """A post as every client reads it. Expects the post loaded by `blog.selectors.post_list`."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    slug = serializers.SlugField()
    body = serializers.CharField()
    status = serializers.CharField()
    author = AuthorOutputSerializer()
    category = CategoryOutputSerializer()
    tags = TagOutputSerializer(many=True, source="tags.all")
    # null until the post is published: the schema must say so, or a client believes it never is.
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CommentInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class CommentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    post = serializers.IntegerField(source="post_id")
    author = AuthorOutputSerializer()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class TransitionInputSerializer(serializers.Serializer):
    """A move in the editorial workflow: the status to go to, and a note for the history."""

    to = serializers.ChoiceField(choices=PostStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AuditEntryOutputSerializer(serializers.Serializer):
    """One entry of a post's history."""

    id = serializers.IntegerField()
    action = serializers.CharField()
    actor = AuthorOutputSerializer(allow_null=True)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    changes = serializers.JSONField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
