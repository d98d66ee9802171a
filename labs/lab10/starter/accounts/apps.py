"""App configuration for accounts: the people who use the blog and their roles."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """The accounts app, registered as `accounts` in INSTALLED_APPS."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"
