"""community texts per language, the applicant's words on join requests, members' first steps

Revision ID: 0200_join
Revises: 0195
Create Date: 2026-12-05 23:55:00.000000

- communities.texts: the house rules, the join question and how to reach a coordinator, per
  language; the old single house_rules text moves into it under the default language (nl).
- join_requests.motivation / question / answer: what the applicant wrote, for the coordinators.
- members.first_steps: which of the newcomer's first steps are done, or that the card was put away;
  members who joined before it never see the card (they are past their first steps).
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0200_join"
down_revision = "0195"
branch_labels = None
depends_on = None

# The language the single house-rules text was written in (Config.BABEL_DEFAULT_LOCALE).
OLD_TEXT_LOCALE = "nl"


def upgrade():
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('texts', sa.JSON(), nullable=False, server_default='{}'))
    communities = sa.table('communities', sa.column('id', sa.Integer), sa.column('house_rules', sa.Text),
                           sa.column('texts', sa.JSON))
    conn = op.get_bind()
    for community_id, rules in conn.execute(sa.select(communities.c.id, communities.c.house_rules)).all():
        if rules:
            conn.execute(communities.update().where(communities.c.id == community_id)
                         .values(texts={"house_rules": {OLD_TEXT_LOCALE: rules}}))
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.drop_column('house_rules')

    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('motivation', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('question', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('answer', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_steps', sa.JSON(), nullable=False, server_default='{}'))
    members = sa.table('members', sa.column('first_steps', sa.JSON))
    conn.execute(members.update().values(first_steps={"dismissed": True}))


def downgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('first_steps')

    with op.batch_alter_table('join_requests', schema=None) as batch_op:
        batch_op.drop_column('answer')
        batch_op.drop_column('question')
        batch_op.drop_column('motivation')

    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('house_rules', sa.Text(), nullable=False, server_default=''))
    communities = sa.table('communities', sa.column('id', sa.Integer), sa.column('house_rules', sa.Text),
                           sa.column('texts', sa.JSON))
    conn = op.get_bind()
    for community_id, texts in conn.execute(sa.select(communities.c.id, communities.c.texts)).all():
        texts = json.loads(texts) if isinstance(texts, str) else (texts or {})
        rules = texts.get("house_rules") or {}
        kept = rules.get(OLD_TEXT_LOCALE) or next(iter(rules.values()), "")
        if kept:
            conn.execute(communities.update().where(communities.c.id == community_id).values(house_rules=kept))
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.drop_column('texts')
