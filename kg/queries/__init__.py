"""The SPARQL templates of hcc-kg (one .rq file each); values go in only through `kg.store.bind`."""
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def template(name: str) -> str:
    return resources.files(__name__).joinpath(f"{name}.rq").read_text(encoding="utf-8")
