from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

router = APIRouter(tags=["questions"])


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=2000, description="a clinical question in English")

    @field_validator("question")
    @classmethod
    def not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("question is blank: send a question of 1 to 2000 characters")
        return v


def _answer(request: Request, question: str) -> dict:
    s = request.app.state
    out = s.answerer.ask(question)
    out["graph_version"] = s.graph_version
    return out


# The answer is plain JSON already: returned as is, it skips FastAPI's re-encoding of every nested value.
@router.post("/ask", summary="Answer a clinical question with facts and their source quotes",
             response_class=JSONResponse)
def ask(request: Request, body: AskRequest):
    return JSONResponse(_answer(request, body.question))


@router.get("/ask", summary="Answer a clinical question (GET form)", response_class=JSONResponse)
def ask_get(request: Request, question: Annotated[str, Query(min_length=1, max_length=2000, pattern=r"\S",
                                                             description="a clinical question in English")]):
    return JSONResponse(_answer(request, question))
