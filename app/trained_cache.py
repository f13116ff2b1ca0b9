"""Trained models kept in a worker process, so a run that only asks a trained model a new
question (tag another sentence, translate another date, find another word's neighbours)
does not train it again.

Demos key a training by every setting it was trained with (their ``training_key()``) and
keep only finished trainings: a key promises the model its settings would train.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class TrainedCache(Generic[T]):
    """The last ``size`` trainings by key, least recently used out first. Thread-safe:
    runs in several threads of one process share a cache.

    Raises ValueError for ``size < 1``.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"a cache holds at least 1 training, got size={size}")
        self.size = size
        self._trained: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> T | None:
        """The training kept under ``key`` (now the most recently used), or None."""
        with self._lock:
            trained = self._trained.get(key)
            if trained is not None:
                self._trained.move_to_end(key)
            return trained

    def keep(self, key: Hashable, trained: T) -> None:
        """File ``trained`` under ``key``, dropping the least recently used beyond ``size``."""
        with self._lock:
            self._trained[key] = trained
            self._trained.move_to_end(key)
            while len(self._trained) > self.size:
                self._trained.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        """Forget the training under ``key``, if any (the next run with it trains anew)."""
        with self._lock:
            self._trained.pop(key, None)

    def clear(self) -> None:
        """Forget every training."""
        with self._lock:
            self._trained.clear()
