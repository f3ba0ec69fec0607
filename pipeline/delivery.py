"""Mail delivery of the digest: settings from the environment, a multipart message, SMTP.

Settings (all optional; without ``PAPERLAKE_SMTP_HOST`` nothing is sent):

    PAPERLAKE_SMTP_HOST       SMTP server
    PAPERLAKE_SMTP_PORT       default 587 with STARTTLS, else 25
    PAPERLAKE_SMTP_STARTTLS   "true"/"false", default true
    PAPERLAKE_SMTP_CAFILE     CA bundle to verify the server with (default: the system's)
    PAPERLAKE_SMTP_USER       login name (no login without it)
    PAPERLAKE_SMTP_PASSWORD   its password (read from the environment only, never logged)
    PAPERLAKE_MAIL_FROM       sender address, default paperlake@<host name>
    PAPERLAKE_MAIL_TO         recipients, comma-separated
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

_TRUE = {"1", "true", "yes", "on"}


class MailConfigError(ValueError):
    """Mail settings that cannot work; the message says which variable to fix."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    starttls: bool
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings | None:
        """The settings in ``env`` (default: the process environment); None when mail is off."""
        env = os.environ if env is None else env
        host = env.get("PAPERLAKE_SMTP_HOST", "").strip()
        if not host:
            return None
        recipients = tuple(
            r.strip() for r in env.get("PAPERLAKE_MAIL_TO", "").split(",") if r.strip()
        )
        if not recipients:
            raise MailConfigError(
                "PAPERLAKE_SMTP_HOST is set but PAPERLAKE_MAIL_TO names no recipient"
            )
        starttls = env.get("PAPERLAKE_SMTP_STARTTLS", "true").strip().lower() in _TRUE
        port_text = env.get("PAPERLAKE_SMTP_PORT", "").strip() or ("587" if starttls else "25")
        if not port_text.isdigit():
            raise MailConfigError(f"PAPERLAKE_SMTP_PORT must be a number, not {port_text!r}")
        return cls(
            host=host,
            port=int(port_text),
            starttls=starttls,
            sender=env.get("PAPERLAKE_MAIL_FROM", "").strip() or f"paperlake@{socket.getfqdn()}",
            recipients=recipients,
            user=env.get("PAPERLAKE_SMTP_USER", "").strip() or None,
            password=env.get("PAPERLAKE_SMTP_PASSWORD") or None,
            cafile=env.get("PAPERLAKE_SMTP_CAFILE", "").strip() or None,
        )

    def describe(self) -> dict[str, object]:
        """The settings as shown in logs and metadata: never the password."""
        return {
            "server": f"{self.host}:{self.port}",
            "starttls": self.starttls,
            "login": self.user or "(none)",
            "from": self.sender,
            "to": ", ".join(self.recipients),
        }


def digest_message(settings: MailSettings, subject: str, html: str, text: str) -> EmailMessage:
    """A multipart/alternative message: the plain-text digest, then its HTML rendering."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr(("paperlake", settings.sender))
    message["To"] = ", ".join(settings.recipients)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(settings: MailSettings, message: EmailMessage) -> None:
    """Deliver ``message`` over SMTP (STARTTLS and login when configured)."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context(cafile=settings.cafile))
            smtp.ehlo()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(message, to_addrs=list(settings.recipients))
