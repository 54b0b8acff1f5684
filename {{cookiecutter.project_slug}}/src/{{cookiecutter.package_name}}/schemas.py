"""Pydantic v2 models of what the API reads and writes; the OpenAPI document is built from them."""

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# Text is stored as given, so that the OpenAPI schema (a pattern) and the validation say the
# same thing. No NUL characters (databases refuse them in text); a name is not blank. Blank
# means whitespace to Python's `\s` and to JSON Schema's (ECMAScript's) alike: the first also
# counts \x1c-\x1f and \x85, the second \ufeff, so the pattern names them.
Name = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00]*[^\s\x00\x1c-\x1f\x85\ufeff][^\x00]*$",
    ),
]
Description = Annotated[str, StringConstraints(max_length=1000, pattern=r"^[^\x00]*$")]


class Status(BaseModel):
    """Health answer."""

    status: str = Field(examples=["ok"])
    checks: dict[str, str] = Field(default_factory=dict)


class Problem(BaseModel):
    """RFC 9457 problem details, as every error answer is shaped."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


class ItemIn(BaseModel):
    """Body of POST and PUT: every field of an item."""

    # Python's regular expressions, as JSON Schema tools (and clients) read the pattern.
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    name: Name
    description: Description | None = None


class ItemPatch(BaseModel):
    """Body of PATCH: only the fields to change."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    name: Name | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _check_fields(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self


class ItemOut(BaseModel):
    """An item as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class Page(BaseModel):
    """Query parameters of a list: a bounded window."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(20, ge=1, le=100, description="How many items at most.")
    offset: int = Field(0, ge=0, le=1_000_000, description="How many items to skip.")


class ItemPage(BaseModel):
    """One page of items with the total count."""

    items: list[ItemOut]
    total: int
    limit: int
    offset: int
