"""Who may do what: the one permission rule, as data. docs/permissions.md shows it as a table (a test
keeps the two equal).

The rule for admins, in one sentence: a community admin may stop and remove anything in their
community (cancel a job, delete a result, rename or delete a character, run /admin), but may not create
from another person's work (re-roll, same seed, save as character, originals): those would spend the
admin's quota on, or copy, images someone else asked for, and the owner can do them themselves.

A ban wins over everything that costs units or puts content in the chat (generate, save, rename,
re-roll, originals, showing a character). A banned person keeps what only removes or reads their own
things: cancel their job (which releases its hold), delete their result, delete their character (faces
are personal data), and read their quota, history and the list of characters. A ban also takes an
admin's powers.
"""

from __future__ import annotations

import enum

from core.errors import NotAllowed
from core.types import Actor


class Action(enum.StrEnum):
    """Everything CastService lets someone do; each value names the same action in the docs table."""

    GENERATE = "generate"  # /imagine, /pose, …: a new job on the actor's quota
    CHARACTER_SAVE = "character_save"  # save (or confirm saving) a face as a character
    CHARACTER_RENAME = "character_rename"
    CHARACTER_DELETE = "character_delete"
    CHARACTER_SHOW = "character_show"  # post a saved character's image
    LIST_CHARACTERS = "list_characters"
    CANCEL = "cancel"
    REROLL = "reroll"  # same request, new seed, on the presser's quota
    REROLL_SAME_SEED = "reroll_same_seed"
    SAVE_FROM_JOB = "save_from_job"  # keep a result image as a character
    DELETE_OUTPUT = "delete_output"  # remove a result message
    ORIGINALS = "originals"  # send a result's images again as files
    VIEW_QUOTA = "view_quota"
    VIEW_HISTORY = "view_history"
    ADMIN_QUOTA = "admin_quota"  # change the community's quota policy
    ADMIN_BAN = "admin_ban"  # ban or unban a member
    ADMIN_STATS = "admin_stats"
    ADMIN_RATING = "admin_rating"  # rate a chat SFW/NSFW; choose withhold or spoiler for flagged images
    ADMIN_FILTER = "admin_filter"  # add, remove or list the community's prompt filters
    FORGET_ME = "forget_me"  # remove everything of the actor on this platform
    REPORT = "report"  # flag a result to the community's admins
    ADMIN_LOG = "admin_log"  # read who generated what (prompts included) and the moderation log


class Role(enum.StrEnum):
    """The actor's relation to the thing acted on."""

    OWNER = "owner"  # it is theirs: their job, result, character, account
    ADMIN = "admin"  # a community admin; the thing is someone else's, or the community itself
    OTHER = "other"  # a member; the thing is someone else's, or the community itself
    BANNED = "banned"  # banned here, acting on their own things or the community


ROLES = (Role.OWNER, Role.ADMIN, Role.OTHER, Role.BANNED)  # the table's column order
Y, N = True, False
NA = None  # this role cannot arise for this action (see role_of); refused if it ever did

# action -> (owner, admin, other, banned). docs/permissions.md says why for each non-obvious cell.
TABLE: dict[Action, tuple[bool | None, bool | None, bool | None, bool | None]] = {
    # The actor's own account: whoever does these is their owner.
    Action.GENERATE: (Y, NA, NA, N),
    Action.VIEW_QUOTA: (Y, NA, NA, Y),
    Action.VIEW_HISTORY: (Y, NA, NA, Y),
    Action.FORGET_ME: (Y, NA, NA, Y),
    # Saving a face: the one who sent it must be the one who confirms (consent is personal).
    Action.CHARACTER_SAVE: (Y, N, N, N),
    # A saved character: its saver owns it.
    Action.CHARACTER_RENAME: (Y, Y, N, N),
    Action.CHARACTER_DELETE: (Y, Y, N, Y),
    # A job and its results: whoever started it owns it.
    Action.CANCEL: (Y, Y, N, Y),
    Action.REROLL: (Y, N, N, N),
    Action.REROLL_SAME_SEED: (Y, N, N, N),
    Action.SAVE_FROM_JOB: (Y, N, N, N),
    Action.DELETE_OUTPUT: (Y, Y, N, Y),
    Action.ORIGINALS: (Y, N, N, N),
    # Anyone may tell the admins about a result (once per job); it costs nothing and posts nothing.
    Action.REPORT: (Y, Y, Y, Y),
    # The community itself: nobody owns it.
    Action.CHARACTER_SHOW: (NA, Y, Y, N),
    Action.LIST_CHARACTERS: (NA, Y, Y, Y),
    Action.ADMIN_QUOTA: (NA, Y, N, N),
    Action.ADMIN_BAN: (NA, Y, N, N),
    Action.ADMIN_STATS: (NA, Y, N, N),
    Action.ADMIN_RATING: (NA, Y, N, N),
    Action.ADMIN_FILTER: (NA, Y, N, N),
    Action.ADMIN_LOG: (NA, Y, N, N),
}

_WHAT = {  # action -> what the refusal says the actor tried
    Action.GENERATE: "generate images",
    Action.VIEW_QUOTA: "see this quota",
    Action.VIEW_HISTORY: "see this history",
    Action.FORGET_ME: "remove this person's data",
    Action.CHARACTER_SAVE: "confirm it",
    Action.CHARACTER_RENAME: "rename it",
    Action.CHARACTER_DELETE: "delete it",
    Action.CANCEL: "cancel it",
    Action.REROLL: "re-roll it",
    Action.REROLL_SAME_SEED: "re-roll it",
    Action.SAVE_FROM_JOB: "save its result as a character",
    Action.DELETE_OUTPUT: "delete its result",
    Action.ORIGINALS: "get its original files",
    Action.CHARACTER_SHOW: "show characters",
    Action.LIST_CHARACTERS: "list characters",
    Action.ADMIN_QUOTA: "change the quota policy",
    Action.ADMIN_BAN: "ban or unban people",
    Action.ADMIN_STATS: "see the community's stats",
    Action.ADMIN_RATING: "change this chat's rating",
    Action.ADMIN_FILTER: "manage the prompt filters",
    Action.REPORT: "report it",
    Action.ADMIN_LOG: "read the community's log",
}
_OWNER_NOUN = {
    Action.CHARACTER_SAVE: "the person saving this character",
    Action.CHARACTER_RENAME: "whoever saved this character",
    Action.CHARACTER_DELETE: "whoever saved this character",
}
_JOB_OWNER = "the person who started this job"


def role_of(actor: Actor, *, owner_id: str | None, banned: bool) -> Role:
    """The actor's role towards a thing owned by `owner_id` (None: the community itself).

    A banned person acting on someone else's thing is just OTHER: a ban never adds a right, and it
    takes an admin's away.
    """
    mine = owner_id == actor.user_id
    if banned:
        return Role.BANNED if mine or owner_id is None else Role.OTHER
    if mine:
        return Role.OWNER
    return Role.ADMIN if actor.is_admin else Role.OTHER


def decide(action: Action, role: Role) -> bool:
    return TABLE[action][ROLES.index(role)] is True


def authorize(action: Action, role: Role) -> None:
    """Return if the table allows it; otherwise raise NotAllowed with a message the user can act on."""
    if not decide(action, role):
        raise refused(action, role)


def refused(action: Action, role: Role) -> NotAllowed:
    return NotAllowed(refusal(action, role), action=action.value, role=role.value)


def refusal(action: Action, role: Role) -> str:
    what = _WHAT[action]
    if role == Role.BANNED:
        return f"You're banned from castbot in this community, so you can't {what}. Ask an admin if this is a mistake."
    if not decide(action, Role.OWNER):  # community-level: only admins
        return f"Only community admins can {what}."
    owner = _OWNER_NOUN.get(action, _JOB_OWNER)
    if decide(action, Role.ADMIN):
        return f"Only {owner} or a community admin can {what}."
    if role == Role.ADMIN and owner == _JOB_OWNER:
        return f"Only {owner} can {what}; admins may cancel or delete it, not act in its owner's name."
    return f"Only {owner} can {what}."
