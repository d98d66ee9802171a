# FILE LAB10 SOLUTION
"""Gunicorn's settings for the web process: `gunicorn config.wsgi` reads this file by itself.

Everything that differs between machines comes from the environment: the port (PORT), the
number of worker processes (WEB_CONCURRENCY, which Gunicorn reads on its own). Gunicorn's own
lines are JSON too, in the same shape as the project's, so one log pipeline reads them all;
its access log stays off, because the project logs one line per request itself, with the
request id and the view (api/request_ids.py).
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# A request that takes longer than this is killed and logged; the client sees 502/504.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Stop answering on a keep-alive connection before the load balancer's idle timeout does.
keepalive = 5
# Restart workers now and then, so a slow leak cannot grow without bound.
max_requests = 1000
max_requests_jitter = 100
# Logs to stderr, where the container runtime collects them.
errorlog = "-"
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
        },
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
    },
    # Gunicorn merges this over its own defaults key by key, so each one it uses is named here.
    "root": {"level": "INFO", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        # The project logs each request itself (with its id and view); Gunicorn's line is noise.
        "gunicorn.access": {"level": "WARNING", "handlers": ["error_console"], "propagate": False},
    },
}
