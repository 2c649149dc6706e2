"""`curate llm ...`: run the embedded model server, check an endpoint."""
import asyncio
import signal
import time
from pathlib import Path

import typer

from curate.errors import RunError

llm_app = typer.Typer(no_args_is_help=True, help="The LLM endpoint used by synthesis (qa_rewrite).")


@llm_app.command()
def serve(port: int = typer.Option(8080, help="Port on 127.0.0.1"),
          host: str = typer.Option("127.0.0.1", help="Address to bind"),
          model: Path | None = typer.Option(None, help="A GGUF file (default: Gemma 3 270M from PyPI)"),
          threads: int = typer.Option(2, help="llama.cpp threads"),
          ctx: int = typer.Option(2048, help="Context size in tokens")):
    """Serve the local model on an OpenAI-compatible endpoint until Ctrl-C."""
    from curate.synth.client import EndpointError
    from curate.synth.server import LocalServer

    server = LocalServer(model, port=port, host=host, n_ctx=ctx, n_threads=threads)
    interrupted, previous = [], signal.getsignal(signal.SIGINT)
    try:
        server.start()  # Ctrl-C while it starts raises KeyboardInterrupt, as usual
        # then Ctrl-C sets a flag rather than raising wherever the main thread is: raised inside
        # Popen.poll() it can leave the Popen's wait lock taken, and stopping the server then waits forever
        signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
        typer.echo(f"serving {server.base_url} (Ctrl-C to stop)", err=True)
        while not interrupted and server.process.poll() is None:
            time.sleep(0.5)
        if not interrupted:
            raise RunError(f"the server exited with code {server.process.returncode}")
    except EndpointError as e:
        raise RunError(str(e)) from e
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        signal.signal(signal.SIGINT, previous)


@llm_app.command()
def check(endpoint: list[str] = typer.Argument(..., help="Base URL(s), e.g. http://127.0.0.1:8080/v1"),
          model: str | None = typer.Option(None)):
    """Say whether the endpoint(s) answer and which model would be used (exit 1 if none does)."""
    from curate.synth.client import EndpointError, LLMClient

    async def go():
        async with LLMClient(endpoint, model) as client:
            return await client.check()

    try:
        typer.echo(asyncio.run(go()))
    except EndpointError as e:
        raise RunError(str(e)) from e
