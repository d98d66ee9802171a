"""Routes of the api app, mounted under /api/ by config/urls.py."""

from django.urls import path

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

from .views import HealthCheckApi

app_name = "api"

urlpatterns = [
    path("health/", HealthCheckApi.as_view(), name="health"),
    path("categories/", CategoryListApi.as_view(), name="category-list"),
    path("tags/", TagListApi.as_view(), name="tag-list"),
    path("posts/", PostListApi.as_view(), name="post-list"),
    path("posts/<int:post_id>/", PostDetailApi.as_view(), name="post-detail"),
    path("posts/<int:post_id>/comments/", CommentListApi.as_view(), name="comment-list"),
    path("posts/<int:post_id>/transition/", PostTransitionApi.as_view(), name="post-transition"),
    path("posts/<int:post_id>/history/", PostHistoryApi.as_view(), name="post-history"),
    path("subscriptions/", SubscriptionListApi.as_view(), name="subscription-list"),
    path(
        "subscriptions/<int:subscription_id>/",
        SubscriptionDetailApi.as_view(),
        name="subscription-detail",
    ),
]
