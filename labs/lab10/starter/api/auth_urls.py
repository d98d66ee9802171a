"""Routes for accounts and tokens, mounted under /api/auth/ by config/urls.py."""

from django.urls import path

from .auth_views import LogoutApi, MeApi, RegisterApi, TokenObtainApi, TokenRefreshApi

app_name = "auth"

urlpatterns = [
    path("token/", TokenObtainApi.as_view(), name="token-obtain"),
    path("token/refresh/", TokenRefreshApi.as_view(), name="token-refresh"),
    path("logout/", LogoutApi.as_view(), name="logout"),
    path("register/", RegisterApi.as_view(), name="register"),
    path("me/", MeApi.as_view(), name="me"),
]
