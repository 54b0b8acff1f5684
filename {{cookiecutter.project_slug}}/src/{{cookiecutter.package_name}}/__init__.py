"""{{ cookiecutter.project_slug }}: an aiohttp service on uvloop."""

from importlib.metadata import version

__version__ = version("{{ cookiecutter.project_slug }}")
