"""What the ticket adapters (``zendesk``, ``freshdesk``) share: the outcome rule.

A ticket is one canonical leg: arrived when created, answered at the first
agent reply (``wait_s`` = first reply time), ended when solved/resolved.
The canonical outcomes were made for calls, so tickets follow this rule:

==============================================  ======================
ticket                                          outcome
==============================================  ======================
has a first reply                               ``answered``
no reply, but solved/closed (resolved by an     ``answered`` (``answered_at``
agent without a public reply: merge, macro)     and ``wait_s`` null)
no reply, deleted (Zendesk ``deleted``: spam)   ``blocked``
no reply, still open/pending/on hold            ``callback_requested``
==============================================  ======================

An open ticket with no reply is not an abandonment: the customer is waiting
for us to get back to them, which is what ``callback_requested`` means.  It
is provisional: ``version`` is the ticket's ``updated_at``, so a later export
of the same ticket replaces it in the warehouse.
"""

from __future__ import annotations

__all__ = ["ticket_outcome"]


def ticket_outcome(*, replied: bool, done: bool, deleted: bool = False) -> str:
    """The canonical outcome of a ticket (see the module docstring)."""
    if replied:
        return "answered"
    if deleted:
        return "blocked"
    if done:
        return "answered"
    return "callback_requested"
