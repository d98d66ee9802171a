"""The API's contracts: what clients may send (input) and what they get back (output).

Input and output are separate serializers on purpose: a client sends a category's id and tag
ids, and gets back the category and the tags themselves, with the author and timestamps.
Serializers check the shape of the data (types, lengths, formats, that referenced rows exist)
and never save anything: the services in `blog/services.py` own the writes and the business
rules (banned terms, a slug unique per author).
"""

from __future__ import annotations

from rest_framework import serializers


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


# TODO(lab04): the post and comment serializers (labs/lab04/README.md, step 1):
# PostInputSerializer (title, slug, body, category, tags, with the rules of the brief),
# PostOutputSerializer, CommentInputSerializer and CommentOutputSerializer.
