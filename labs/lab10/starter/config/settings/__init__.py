"""Settings per environment: `dev` (manage.py's default), `test` (pytest), `prod` (servers).

Choose one with DJANGO_SETTINGS_MODULE, for example `config.settings.prod`.
"""
