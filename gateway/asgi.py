"""The ASGI entry point uvicorn imports (each worker builds its own app from the environment)."""

from gateway.app import create_app
from gateway.settings import load_settings

app = create_app(load_settings())
