"""Routes of the api app, mounted under /api/ by config/urls.py."""

from django.urls import path

from api.blog_views import CategoryListApi, TagListApi

from .views import HealthCheckApi

app_name = "api"

urlpatterns = [
    path("health/", HealthCheckApi.as_view(), name="health"),
    path("categories/", CategoryListApi.as_view(), name="category-list"),
    path("tags/", TagListApi.as_view(), name="tag-list"),
    # TODO(lab04): route the post and comment endpoints of the brief (labs/lab04/README.md,
    # step 5): posts/, posts/<int:post_id>/ and posts/<int:post_id>/comments/.
]
