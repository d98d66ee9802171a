"""App configuration for blog: posts, categories, tags and comments."""

from django.apps import AppConfig


class BlogConfig(AppConfig):
    """The blog app, registered as `blog` in INSTALLED_APPS."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "blog"
    verbose_name = "Blog"
