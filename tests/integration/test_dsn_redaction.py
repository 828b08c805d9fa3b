"""DSN redaction parses a DSN as libpq does, so quoted, backslash-escaped and URL-encoded
passwords are masked whole (issue 16, item 6: `password=sec\\ ret` was shown as `password=*** ret`)."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given, settings
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


def test_a_percent_encoded_password_key_in_a_url_is_masked():
    """libpq decodes query keys too: `?pass%77ord=` sets the password."""
    for dsn in ("postgresql://u@db/rag?pass%77ord=secretXYZ", "postgresql://u@db/rag?sslmode=require&%70assword=secretXYZ"):
        assert "secretXYZ" not in redact_dsn(dsn)
        assert dsn_password(dsn) == "secretXYZ"
        assert "secretXYZ" not in redact_text(f"failed: secretXYZ at {dsn}", dsn)


#: characters that never stand 4 in a row in the rest of these DSNs, so any 4-character piece of
#: the password found in the redacted form can only have come from the password
SECRETISH = st.text(alphabet=st.sampled_from("QJKXZqjkxz0189 '\\\"=@:/%?&#+;,$!~"), min_size=4, max_size=24)


def _pieces(password: str) -> set[str]:
    """Every substring of 4 or more characters."""
    return {password[i:j] for i in range(len(password)) for j in range(i + 4, len(password) + 1)}


@settings(max_examples=300)
@given(SECRETISH, st.sampled_from(["kv", "url", "query"]))
def test_no_piece_of_the_password_shows_in_any_form(password, form):
    if form == "kv":
        dsn = make_conninfo("", host="db.example.com", dbname="rag", user="u", password=password)
    elif form == "url":
        dsn = f"postgresql://u:{quote(password, safe='')}@db.example.com:5432/rag"
    else:
        dsn = f"postgresql://u@db.example.com/rag?password={quote(password, safe='')}&sslmode=require"
    shown = redact_dsn(dsn)
    leaked = {piece for piece in _pieces(password) | _pieces(quote(password, safe="")) if piece in shown}
    assert not leaked, (dsn, shown, leaked)


@settings(max_examples=150)
@given(SECRETISH)
def test_a_typed_dsns_password_is_redacted_from_any_text_whole(password):
    """The session's typed DSN (stored as guard_typed_dsn returns it: libpq-quoted) gives redact()
    its whole password, not the part before a space or a quote."""
    from rag_core.providers.credentials import Credentials, redact

    creds = Credentials(pg_dsn=make_conninfo("", host="db.example.com", hostaddr="93.184.216.34", password=password))
    shown = redact(f"the server said: {password}.", creds)
    assert not {piece for piece in _pieces(password) if piece in shown}, shown


def test_a_key_value_password_holding_a_scheme_separator_is_not_read_as_a_url():
    """`password=77://` made the DSN look like a URL: the part before `://` was shown."""
    for dsn in ("host=db password=ab77://", "host=db password='se cret://x'", "password=zz9:// host=db"):
        assert dsn_password(dsn) in ("ab77://", "se cret://x", "zz9://")
        shown = redact_dsn(dsn)
        assert "77" not in shown and "cret" not in shown and "zz9" not in shown, shown
    assert "Zq9x" not in redact_dsn("POSTGRESQL://u:Zq9x@db/rag")  # libpq would refuse it; still masked
