"""The admin site for accounts: Django's user admin, plus each user's role."""

# TODO(lab02): register the User model with Django's UserAdmin, showing and filtering by role
# (labs/lab02/README.md, step 6).
