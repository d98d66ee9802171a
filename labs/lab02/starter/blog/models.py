"""The blog's content: categories, tags, posts, comments, and the banned terms of its policy.

Rules about content that must hold for every row, whoever writes it (a view, the admin, a bulk
update, a script, another service sharing the database), are database constraints declared in
each model's Meta, not checks in Python. Business logic (publishing, moderation) lives in
services.py, never in save().
"""

# TODO(lab02): the blog's models, with the fields, relations and constraints of the brief:
# Category, Tag and BannedTerm (labs/lab02/README.md, step 2), Post (step 3), Comment
# (step 4). Then make the migrations (step 5), the admin (step 6, blog/admin.py) and the
# seed_governance command with its services in blog/services.py (steps 6 and 7).
