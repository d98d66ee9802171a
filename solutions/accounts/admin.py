# FILE LAB02
"""The admin site for accounts: Django's user admin, plus each user's role."""

# BEGIN LAB02
from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "role", "is_staff", "is_active"]
    list_filter = ["role", "is_staff", "is_superuser", "is_active"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Role", {"fields": ("role",)}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, ("Role", {"fields": ("role",)}))
# STUB LAB02
# # TODO(lab02): register the User model with Django's UserAdmin, showing and filtering by role
# # (labs/lab02/README.md, step 6).
# END LAB02
