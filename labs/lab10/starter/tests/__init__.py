"""Tests of the blog API. They go through HTTP and settings, so they also grade a starter."""
