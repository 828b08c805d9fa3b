"""DSN redaction parses a DSN as libpq does, so quoted, backslash-escaped and URL-encoded
passwords are masked whole (issue 16, item 6: `password=sec\\ ret` was shown as `password=*** ret`)."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st
from psycopg.conninfo import make_conninfo

from rag_core.stores.pg_server import dsn_password, redact_dsn, redact_text

PASSWORDS = st.text(alphabet=st.sampled_from("Zq7 '\\\"=@:/%?&#xY9"), min_size=4, max_size=24).filter(
    lambda p: p.strip() and sum(c.isalnum() for c in p) >= 2)


def test_the_issue_cases():
    assert sorted(redact_dsn(r"host=db password=sec\ ret dbname=rag").split()) == ["dbname=rag", "host=db", "password=***"]
    assert "ret" not in redact_dsn(r"host=db password=sec\ ret")
    assert "b'c" not in redact_dsn(r"host=db password='a b\'c' user=u")
    assert "top" not in redact_dsn("postgresql://u@db/rag?password=zz%20top")
    assert "ss" not in redact_dsn("postgresql://u:p%40ss@db/rag")


@given(PASSWORDS)
def test_a_libpq_quoted_password_never_shows(password):
    dsn = make_conninfo("", host="db.example.com", dbname="rag", user="u", password=password)
    assert dsn_password(dsn) == password
    shown = redact_dsn(dsn)
    assert password not in shown and "***" in shown
    assert password not in redact_text(f"could not connect: {dsn} ({password})", dsn)


@given(PASSWORDS, st.booleans())
def test_a_url_encoded_password_never_shows(password, in_query):
    encoded = quote(password, safe="")
    dsn = (f"postgresql://u@db.example.com:5432/rag?sslmode=require&password={encoded}" if in_query
           else f"postgresql://u:{encoded}@db.example.com:5432/rag")
    shown = redact_dsn(dsn)
    assert encoded not in shown and password not in shown
    assert password not in redact_text(f"failed for {password} / {encoded}", dsn)
