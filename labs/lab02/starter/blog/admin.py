"""The admin site for the blog's content: what editors see, filter, search and act on."""

# TODO(lab02): register Category, Tag, BannedTerm, Post and Comment; customise the Post
# admin (list display, filters, search, an "archive" action) (labs/lab02/README.md, step 6).
