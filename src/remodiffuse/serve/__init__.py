"""Local web demo: a page that turns a sentence into a motion playing in 3D, and its JSON API.

`python -m remodiffuse.serve ckpt=RUN` (see `remodiffuse.serve.server` for the routes and
`remodiffuse.serve.api` for the request fields).
"""

from remodiffuse.serve.server import DemoServer, make_server

__all__ = ["DemoServer", "make_server"]
