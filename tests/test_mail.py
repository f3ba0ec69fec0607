"""Mail delivery of the digest, against a real SMTP server on loopback (aiosmtpd)."""

import email
import email.policy
import socket
import ssl
import subprocess

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from assets.reports import digest_mail
from assets.resources import PaperlakeResource
from pipeline.definitions import defs
from tests.conftest import materialize_snapshot

PASSWORD = "s3cret-pass-do-not-log"
KEY = "hf-trending-2026-11-26"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.logins: list[tuple[str, str]] = []
        self.encrypted: list[bool] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        self.encrypted.append(session.ssl is not None)
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=auth_data.password.decode() == PASSWORD)
        return AuthResult(success=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_factory(monkeypatch):
    """Starts a real SMTP server on loopback (extra options: TLS) and points the settings at it."""
    controllers = []

    def start(**options) -> Inbox:
        inbox = Inbox()
        port = _free_port()
        controller = Controller(
            inbox,
            hostname="127.0.0.1",
            port=port,
            authenticator=inbox.authenticate,
            **({"auth_require_tls": False} | options),
        )
        controller.start()
        controllers.append(controller)
        for name, value in {
            "PAPERLAKE_SMTP_HOST": "127.0.0.1",
            "PAPERLAKE_SMTP_PORT": str(port),
            "PAPERLAKE_SMTP_STARTTLS": "false",
            "PAPERLAKE_SMTP_USER": "digest-bot",
            "PAPERLAKE_SMTP_PASSWORD": PASSWORD,
            "PAPERLAKE_MAIL_FROM": "digest@paperlake.test",
            "PAPERLAKE_MAIL_TO": "ada@example.org, alan@example.org",
        }.items():
            monkeypatch.setenv(name, value)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp(smtp_factory):
    return smtp_factory()


def _mail(instance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)],
        selection=[digest_mail.key],
        instance=instance,
        partition_key=KEY,
        resources={"paperlake": PaperlakeResource()},
        raise_on_error=False,
    )


def _status(result) -> str:
    return result.asset_materializations_for_node("digest_mail")[0].metadata["status"].value


def test_digest_is_mailed_once_as_html_and_text(home, instance, smtp, sample_bytes):
    materialize_snapshot(instance, home, KEY, sample_bytes)
    first = _mail(instance)
    assert first.success
    assert _status(first) == "sent to 2 recipient(s)"
    [(recipients, raw)] = smtp.messages
    assert recipients == ["ada@example.org", "alan@example.org"]
    assert smtp.logins == [("digest-bot", PASSWORD)]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Trending papers 2026-11-26: 248 new of 248"
    assert message["To"] == "ada@example.org, alan@example.org"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("# Trending papers — 2026-11-26")
    assert "<h1>Trending papers — 2026-11-26</h1>" in html

    again = _mail(instance)
    assert again.success and len(smtp.messages) == 1, "an unchanged digest is not sent twice"
    assert _status(again).startswith("already sent on")

    logged = "".join(str(record) for record in instance.all_logs(first.run_id))
    logged += "".join(str(record) for record in instance.all_logs(again.run_id))
    assert PASSWORD not in logged
    for path in home.root.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".eml", ".md", ".html", ".xml"}:
            assert PASSWORD not in path.read_text(errors="replace"), path


def test_a_mail_failure_is_retried_and_never_fails_the_report(
    home, instance, smtp, sample_bytes, monkeypatch
):
    materialize_snapshot(instance, home, KEY, sample_bytes)
    monkeypatch.setenv("PAPERLAKE_SMTP_PORT", str(_free_port()))  # nobody listens there
    result = _mail(instance)
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 3
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "Connection refused" in failure.step_failure_data.error.cause.message
    report = instance.get_latest_materialization_event(dg.AssetKey("snapshot_report"))
    assert report is not None and report.asset_materialization.partition == KEY
    assert smtp.messages == []


def test_without_mail_settings_nothing_is_sent(home, instance, sample_bytes):
    materialize_snapshot(instance, home, KEY, sample_bytes)
    result = _mail(instance)
    assert result.success
    assert _status(result).startswith("mail not configured")


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate for 127.0.0.1, made with openssl."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


def test_starttls_and_login_over_tls(
    home, instance, smtp_factory, tls_files, sample_bytes, monkeypatch
):
    key, cert = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = smtp_factory(tls_context=context, require_starttls=True, auth_require_tls=True)
    monkeypatch.setenv("PAPERLAKE_SMTP_STARTTLS", "true")
    monkeypatch.setenv("PAPERLAKE_SMTP_CAFILE", str(cert))
    materialize_snapshot(instance, home, KEY, sample_bytes)
    assert _mail(instance).success
    assert len(inbox.messages) == 1 and inbox.logins == [("digest-bot", PASSWORD)]
    assert inbox.encrypted == [True]
