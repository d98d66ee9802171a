# FILE LAB01 SOLUTION
"""Routes of the api app, mounted under /api/ by config/urls.py."""

from django.urls import path

# BEGIN LAB04
# STUB LAB04
# from api.blog_views import CategoryListApi, TagListApi
#
# END LAB04
# BEGIN LAB04 UNTIL LAB06
# from api.blog_views import CategoryListApi, CommentListApi, PostDetailApi, PostListApi, TagListApi
#
# END LAB04
# BEGIN LAB06 UNTIL LAB09
# from api.blog_views import (
#     CategoryListApi,
#     CommentListApi,
#     PostDetailApi,
#     PostHistoryApi,
#     PostListApi,
#     PostTransitionApi,
#     TagListApi,
# )
#
# STUB LAB06
# from api.blog_views import (
#     CategoryListApi,
#     CommentListApi,
#     PostDetailApi,
#     PostHistoryApi,
#     PostListApi,
#     PostTransitionApi,
#     TagListApi,
# )
#
# END LAB06
# BEGIN LAB09
from api.blog_views import (
    CategoryListApi,
    CommentListApi,
    PostDetailApi,
    PostHistoryApi,
    PostListApi,
    PostTransitionApi,
    TagListApi,
)
from api.subscription_views import SubscriptionDetailApi, SubscriptionListApi

# STUB LAB09
# from api.blog_views import (
#     CategoryListApi,
#     CommentListApi,
#     PostDetailApi,
#     PostHistoryApi,
#     PostListApi,
#     PostTransitionApi,
#     TagListApi,
# )
#
# END LAB09
from .views import HealthCheckApi

app_name = "api"

urlpatterns = [
    path("health/", HealthCheckApi.as_view(), name="health"),
    # BEGIN LAB04
    path("categories/", CategoryListApi.as_view(), name="category-list"),
    path("tags/", TagListApi.as_view(), name="tag-list"),
    path("posts/", PostListApi.as_view(), name="post-list"),
    path("posts/<int:post_id>/", PostDetailApi.as_view(), name="post-detail"),
    path("posts/<int:post_id>/comments/", CommentListApi.as_view(), name="comment-list"),
    # STUB LAB04
    # path("categories/", CategoryListApi.as_view(), name="category-list"),
    # path("tags/", TagListApi.as_view(), name="tag-list"),
    # # TODO(lab04): route the post and comment endpoints of the brief (labs/lab04/README.md,
    # # step 5): posts/, posts/<int:post_id>/ and posts/<int:post_id>/comments/.
    # END LAB04
    # BEGIN LAB06
    path("posts/<int:post_id>/transition/", PostTransitionApi.as_view(), name="post-transition"),
    path("posts/<int:post_id>/history/", PostHistoryApi.as_view(), name="post-history"),
    # STUB LAB06
    # path("posts/<int:post_id>/transition/", PostTransitionApi.as_view(), name="post-transition"),
    # path("posts/<int:post_id>/history/", PostHistoryApi.as_view(), name="post-history"),
    # END LAB06
    # BEGIN LAB09
    path("subscriptions/", SubscriptionListApi.as_view(), name="subscription-list"),
    path(
        "subscriptions/<int:subscription_id>/",
        SubscriptionDetailApi.as_view(),
        name="subscription-detail",
    ),
    # STUB LAB09
    # # TODO(lab09): route subscriptions/ and subscriptions/<int:subscription_id>/
    # # (labs/lab09/README.md, step 2).
    # END LAB09
]
