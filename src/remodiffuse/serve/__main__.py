"""Web demo entry point: `python -m remodiffuse.serve ckpt=... [host=127.0.0.1] [port=8000]`.

The server is the standard library's ThreadingHTTPServer (`remodiffuse.serve.server`): the
simplest choice, nothing to install, and the model call is serialised anyway.
"""

import signal

import hydra
from omegaconf import DictConfig

from remodiffuse.cli import one_line_errors
from remodiffuse.configs import config_dir
from remodiffuse.options import whole_number
from remodiffuse.pipeline import MotionGenerator
from remodiffuse.serve.server import make_server


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="serve")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Load the run and serve the demo until interrupted."""
    port = whole_number("port", cfg.port, 0, 65535)
    server = make_server(MotionGenerator.from_options(cfg), str(cfg.host), port)
    print(f"serving {server.url} (Ctrl-C to stop)", flush=True)
    for stop in (signal.SIGINT, signal.SIGTERM):  # both end it cleanly, even if inherited ignored
        signal.signal(stop, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
