"""The web console at /console: server-rendered pages (Jinja2, Starlette) acting as the signed-in principal.

Every page calls the same `@operation` use cases as the API, through the wire layer's single exit
(`ConsoleDeps.invoke`), with the `Caller` of the console session cookie: validated, authorized and recorded in the
trail exactly as the API call would be. Nothing here touches storage. See docs/ARCHITECTURE.md, "The console".
"""
