"""The people who use the blog.

The project uses its own user model from the very first migration: Django cannot swap the user
model of a database that already has tables pointing at `auth.User`, so even a user model that
adds nothing yet belongs in a new project's first commit.
"""

# TODO(lab02): a custom user model `User(AbstractUser)` with a `role` drawn from a fixed set
# (reader, author, editor, admin; default reader) that the database enforces with a
# CheckConstraint (labs/lab02/README.md, step 1).
