"""Text-encoder tests run offline: Hugging Face hubs switched off, sockets refuse to connect."""

import os
import socket

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a network connection fail at once."""

    def refuse(*args, **kwargs):
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="session")
def minilm():
    """The bundled all-MiniLM-L6-v2 encoder (real weights, loaded once)."""
    from remodiffuse.text import MiniLMTextEncoder

    return MiniLMTextEncoder()
