"""gunicorn run from code, for `jixiao serve` (imported when it runs: the command starts light)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger as _Logger

from jixiao.platform.core import logs

from . import _create_app


class GunicornLogger(_Logger):
    """gunicorn's own lines (boot, signals, worker exits) in the app's format (JIXIAO_LOG_FORMAT)."""

    formatter: logging.Formatter = logging.Formatter(logs.TEXT_FORMAT)

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(self.formatter)


class GunicornApp(BaseApplication):
    """gunicorn run from code: the options `jixiao serve` gives, and `create_app()` built in each
    worker."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return _create_app()
