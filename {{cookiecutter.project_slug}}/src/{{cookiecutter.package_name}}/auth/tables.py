"""The users table, on the service's MetaData (models.py), so that migrations and tests see it."""

from sqlalchemy import Boolean, Column, Integer, String, Table

from ..models import UTCDateTime, metadata, utc_now

# E-mail addresses are stored lower-cased (users.normalise): unique whatever their case.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False, default=utc_now),
)
