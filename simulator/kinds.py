"""Enumerations shared by the whole model and its compiled passes: content kinds,
channels, user states, outcomes, review actions, events."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ContentKind(IntEnum):
    """What a post says. The integer value indexes the model's per-kind arrays."""

    BENIGN = 0
    CRITICAL = 1
    COLLECTIVE_ACTION = 2
    UNLAWFUL = 3

    @property
    def label(self) -> str:
        """Name used in scenario files and output tables (``collective_action``)."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> ContentKind:
        return cls[label.upper()]


KIND_LABELS: tuple[str, ...] = tuple(kind.label for kind in ContentKind)
N_KINDS = len(ContentKind)
# Speech that is legitimate under international human-rights standards (ICCPR Art. 19 and
# 21): everything but `unlawful`. Speech loss and chilling are measured on these kinds so
# that regimes which prohibit different things are compared on the same footing.
LAWFUL_KINDS: tuple[ContentKind, ...] = (
    ContentKind.BENIGN,
    ContentKind.CRITICAL,
    ContentKind.COLLECTIVE_ACTION,
)
SENSITIVE_KINDS: tuple[ContentKind, ...] = (
    ContentKind.CRITICAL,
    ContentKind.COLLECTIVE_ACTION,
    ContentKind.UNLAWFUL,
)


class Channel(IntEnum):
    """Where a post goes: a public timeline or a private message."""

    PUBLIC = 0
    PRIVATE = 1

    @property
    def label(self) -> str:
        return self.name.lower()


CHANNEL_LABELS: tuple[str, ...] = tuple(channel.label for channel in Channel)


class UserState(IntEnum):
    """A user's access state. Stored as int8 in the population arrays."""

    ACTIVE = 0
    EXCLUDED = 1  # refused real-name registration or account closed: no access
    LEFT = 2  # quit after a sanction bit
    CIRCUMVENTING = 3  # posts through circumvention tools, out of the platforms' reach
    DETAINED = 4  # in police detention: cannot post until released


class ExclusionReason(IntEnum):
    """Why a user has no route today, or why an excluded post was lost (docs/model.md
    S14). Stored as int8 (``Users.excl_reason`` holds CLOSED, ACCOUNT_SUSPENDED or
    REFUSED_REAL_NAME for EXCLUDED users; the other reasons follow from the state and the
    platform's service). FRICTION is a reason for posts only: posts through circumvention
    tools lost to it."""

    NONE = 0
    CLOSED = 1  # account closed after strikes
    LEFT = 2  # quit after a sanction
    REFUSED_REAL_NAME = 3  # refused real-name registration where it is enforced
    DETAINED = 4  # in police detention
    SUSPENDED = 5  # home platform suspended or gone
    FRICTION = 6  # offshore post lost to the friction of circumvention tools
    ACCOUNT_SUSPENDED = 7  # the user's account suspended for a fixed time after strikes

    @property
    def label(self) -> str:
        return self.name.lower()


#: The reasons an excluded post or user can have, as named in the outputs.
EXCLUSION_LABELS: tuple[str, ...] = tuple(r.label for r in ExclusionReason)[1:]


class Outcome(IntEnum):
    """The single fate of every intended post. They partition intended posts of every
    kind but criticism: a softened post (a call to act said as criticism,
    docs/model.md S3; the accounting also allows softened unlawful posts) is SOFTENED
    under its intended kind and then has a second fate as a critical post, so
    ``intended(critical) + softened(others) =
    outcomes(critical)`` in each (day, platform, channel)."""

    WITHHELD = 0
    EXCLUDED = 1
    BLOCKED = 2
    REMOVED = 3
    SURVIVING = 4
    SOFTENED = 5


class Action:
    """Review queue priorities (lower first) and the ``removed_by`` codes of posts."""

    ORDER = 0  # a regulator's takedown order: always complied with
    HOLD = 1  # pre-publication review of a held post
    NOTICE = 2  # a user's complaint
    FLAG = 3  # the automatic filter's flag after publication
    APPEAL = 4  # an author contests a removal (second review)
    COUNT = 5
    NAMES = ("order", "hold", "notice", "flag", "appeal")


class EventKind(StrEnum):
    """Institutional events written one row each to ``events.csv``."""

    ORDER = "order"
    ORDER_MISSED = "order_missed"
    NOTICE_MISSED = "notice_missed"  # a notice of prohibited content not acted on in time
    AUDIT = "audit"
    WARNING = "warning"
    FINE = "fine"
    SUSPENSION = "suspension"
    REINSTATEMENT = "reinstatement"
    REVOCATION = "revocation"
    EXIT = "exit"
    REPORT = "report"
    DETENTION = "detention"
    RELEASE = "release"
    ACCOUNT_CLOSED = "account_closed"
    ACCOUNT_SUSPENDED = "account_suspended"  # suspended for a fixed time after strikes (S14)
    #: A closed account re-registered, or a suspension ended (S14).
    ACCOUNT_RETURNED = "account_returned"
    TIMELINE = "timeline"  # a timeline entry took effect or was lifted (docs/model.md 1.3)
    #: A user whose platform stopped serving chose to stop, move or circumvent (S9a).
    ACCESS_CHOICE = "access_choice"
