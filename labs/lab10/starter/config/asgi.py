"""ASGI entry point for asynchronous servers such as uvicorn (`uvicorn config.asgi:application`).

Servers run the production settings unless DJANGO_SETTINGS_MODULE says otherwise.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_asgi_application()
