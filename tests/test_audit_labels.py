"""Every action the audit log records reads as words in the member's history, not as a code."""

import re
from pathlib import Path

from flask_babel import force_locale

from timebank.audit.services import ACTION_LABELS, action_label

SOURCE = Path(__file__).parent.parent / "timebank"
# record("post.moderated", …), and the market's helpers that pass the action on to it.
RECORDED = re.compile(r'(?:record|_changed|_record_for_owner)\(\s*"([a-z_]+\.[a-z_]+)"')


def recorded_actions() -> set[str]:
    return {action for path in SOURCE.rglob("*.py") for action in RECORDED.findall(path.read_text())}


def test_every_recorded_action_has_words_in_both_languages(app):
    actions = recorded_actions()
    assert {"post.moderated", "member.erased", "ledger.reversed"} <= actions
    assert sorted(actions - set(ACTION_LABELS)) == []
    with app.test_request_context():
        with force_locale("en"):
            english = {action: str(action_label(action)) for action in actions}
        with force_locale("nl"):
            untranslated = [action for action in actions if str(action_label(action)) == english[action]]
    assert untranslated == []
