"""One module per area of the console; each has `routes(console) -> list[BaseRoute]` (see console/routes.py)."""
