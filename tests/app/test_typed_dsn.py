"""issue 13: a DSN typed on Settings for one session, guarded like a typed base URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag_core.core.errors import ConfigError
from rag_core.providers.credentials import Credentials, redact, session_view
from rag_core.stores.pg_server import configured_dsn, guard_typed_dsn

SECRET = "s3cr3t-Pa55word-xyz"
ROOT = Path(__file__).resolve().parents[2]


def resolver_to(address: str):
    return lambda host, port: [address]


@pytest.mark.parametrize("address", ["169.254.169.254", "127.0.0.1", "10.0.0.5", "::1", "168.63.129.16"])
def test_a_typed_dsn_to_a_refused_address_is_refused_without_the_password(address):
    dsn = f"postgresql://rag:{SECRET}@db.example.com:5432/rag"
    with pytest.raises(ConfigError) as caught:
        guard_typed_dsn(dsn, allow_local=False, resolver=resolver_to(address))
    assert "refused" in str(caught.value) and SECRET not in str(caught.value)


def test_a_public_host_is_pinned_to_the_checked_address():
    pinned = guard_typed_dsn(f"postgresql://rag:{SECRET}@db.example.com/rag", resolver=resolver_to("93.184.216.34"))
    assert "hostaddr=93.184.216.34" in pinned and "host=db.example.com" in pinned


def test_the_operator_may_allow_local_servers_but_never_metadata():
    assert "hostaddr=127.0.0.1" in guard_typed_dsn("host=127.0.0.1 dbname=rag", allow_local=True)
    with pytest.raises(ConfigError):
        guard_typed_dsn("host=169.254.169.254 dbname=rag", allow_local=True)


@pytest.mark.parametrize("dsn", ["", "host=/var/run/postgresql dbname=rag", "host=a.example.com,b.example.com",
                                 "host=db.example.com hostaddr=10.0.0.1", "not a dsn = = ='", "x" * 3000])
def test_sockets_host_lists_hostaddr_and_garbage_are_refused(dsn):
    with pytest.raises(ConfigError) as caught:
        guard_typed_dsn(dsn, resolver=resolver_to("93.184.216.34"))
    assert "'" not in str(caught.value) or "=" not in str(caught.value)  # never quotes the DSN back


def test_the_session_dsn_reaches_the_store_and_is_redacted_and_never_in_repr():
    typed = Credentials(pg_dsn=f"host=db.example.com hostaddr=93.184.216.34 password={SECRET} dbname=rag")
    creds = session_view(Credentials(), typed)
    assert configured_dsn(credentials=creds) == typed.pg_dsn
    assert SECRET not in repr(creds) and SECRET not in str(creds)
    assert SECRET not in redact(f"failed: {typed.pg_dsn}", creds)


def test_settings_refuses_a_metadata_dsn_and_keeps_a_public_one_for_the_session(monkeypatch, app_root):
    import rag_core.core.safety as safety

    monkeypatch.setattr(safety, "system_resolver", lambda host, port: ["93.184.216.34"])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/settings.py").run()
    at.text_input(key="dsn_input").set_value(f"postgresql://rag:{SECRET}@169.254.169.254/rag").run()
    assert any("refused" in e.value for e in at.error)
    assert "pg_dsn" not in at.session_state["typed_creds"]
    at.text_input(key="dsn_input").set_value(f"postgresql://rag:{SECRET}@db.example.com/rag").run()
    assert not at.error
    shown = " ".join(c.value for c in at.caption)
    assert "In use for this session" in shown and SECRET not in shown
    assert at.text_input(key="dsn_input").value == ""  # the password is not sent back to the browser
