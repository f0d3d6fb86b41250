"""The web pages' read side: what the HTML pages (and their JSON twins) show, built from the graph once per app.

entity (a concept's page)
· reader (a document with its cited spans) · compare (modalities side by side) · console (the SPARQL console's
examples and result tables) · render (Jinja2 environment, link helpers, timing).
"""
