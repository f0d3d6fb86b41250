"""hcc-kg: a knowledge graph of the interventional treatment of hepatocellular carcinoma.

Data flows one way: corpus -> curated assertions -> RDF graph (+ inferred) -> indexes -> qa -> api.
Nothing in kg/ imports api/ or scripts/.
"""
