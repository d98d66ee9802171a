"""WSGI entry point for application servers such as gunicorn (`gunicorn config.wsgi`).

Servers run the production settings unless DJANGO_SETTINGS_MODULE says otherwise.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_wsgi_application()
