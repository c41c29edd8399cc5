"""The outbox's mail sender in a process of its own, next to ``python -m server``'s (when
SMTP_URL is set and MAIL_SENDER is ``process``, the default): building and sending mail never
takes the booking path's event loop. It shares nothing with the server but the database: the
outbox rows are the queue, claimed with leases as any instance's sender claims them. It polls
(a round at most every 0.25 s, at least every second), and is restarted if it dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
from multiprocessing.process import BaseProcess

from server.config import Config
from server.db import Queries, connect_pool
from server.logs import setup_logging
from server.mail import QUERIES, Mailer
from server.tasks import loop_factory

__all__ = ["MailProcess"]

log = logging.getLogger("stampede.mail")

STOP_SECONDS = 10.0
WATCH_SECONDS = 2.0


def _run(config: Config) -> None:
    """The child's entry point."""
    setup_logging(config.log_level, config.log_format)
    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=loop_factory()) as runner,
    ):
        runner.run(_send(config))


async def _send(config: Config) -> None:
    assert config.database_url is not None
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    queries = Queries.load()
    queries.require(*QUERIES)
    pool = await connect_pool(config.database_url, min_size=1, max_size=2)
    try:
        await Mailer.for_config(pool, queries, config).run()
    except asyncio.CancelledError:
        pass
    finally:
        await pool.close()


class MailProcess:
    """Start it, watch it (restarted if it dies), stop it."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._process: BaseProcess | None = None

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a running event loop
        self._process = context.Process(target=_run, args=(self._config,), name="stampede-mail")
        self._process.start()
        log.info("mail sender started (pid %s)", self._process.pid)

    async def watch(self) -> None:
        """Until cancelled: a sender that died is started again."""
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if self._process is not None and not self._process.is_alive():
                log.warning("mail sender exited (%s); starting it again", self._process.exitcode)
                self.start()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_SECONDS."""
        if self._process is None or not self._process.is_alive():
            return
        self._process.terminate()
        self._process.join(STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
