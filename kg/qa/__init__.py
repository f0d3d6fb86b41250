"""Question answering over the graph: see answerer.py for the pipeline and one module per step."""
